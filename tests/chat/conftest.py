"""Fixtures for the chat route tests: a table on the moto server, a live `@connections` server."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import boto3
import pytest

from local_stack.moto_service import MotoServer
from tests.chat import harness
from tests.support.connections_server import ConnectionsServer
from tests.support.lambda_server import LambdaServer


def create_table(endpoint: str, name: str) -> None:
    """The table as the stack deploys it: PK/SK strings, on-demand, TTL on `ttl`."""
    client = boto3.client("dynamodb", endpoint_url=endpoint)
    client.create_table(
        TableName=name,
        AttributeDefinitions=[
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"}
    )


@pytest.fixture(scope="session")
def chat_table(moto_server: MotoServer) -> Iterator[str]:
    """One table for the chat tests (every test uses fresh ids); the route code finds it by env."""
    name = f"chat-{uuid.uuid4().hex[:8]}"
    saved = {key: os.environ.get(key) for key in ("AWS_ENDPOINT_URL_DYNAMODB", "TABLE_NAME")}
    os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = moto_server.endpoint
    os.environ["TABLE_NAME"] = name
    create_table(moto_server.endpoint, name)
    yield name
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def connections_server() -> Iterator[ConnectionsServer]:
    with ConnectionsServer() as server:
        yield server


@pytest.fixture(scope="session")
def lambda_server() -> Iterator[LambdaServer]:
    """Lambda's Invoke API for the fan-out function, run in this process (the code under test)."""
    names = ("AWS_ENDPOINT_URL_LAMBDA", "FANOUT_FUNCTION_NAME")
    saved = {key: os.environ.get(key) for key in names}
    with harness.lambda_service() as server:
        harness.use_lambda(server)
        os.environ.update(dict(zip(names, (server.endpoint, harness.FANOUT_FUNCTION), strict=True)))
        yield server
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(autouse=True)
def chat_env(
    chat_table: str,
    connections_server: ConnectionsServer,
    lambda_server: LambdaServer,
    monkeypatch: pytest.MonkeyPatch,
) -> ConnectionsServer:
    """Every chat test: the table, the connections server as the endpoint, the stack's defaults."""
    monkeypatch.setenv("CONNECTIONS_ENDPOINT", connections_server.endpoint)
    monkeypatch.setenv("MAX_ROOM_MEMBERS", "10000")
    monkeypatch.setenv("MAX_CONNECTIONS_PER_USER", "10")
    monkeypatch.setenv("PRESENCE_MAX_MEMBERS", "100")
    monkeypatch.setenv("FANOUT_BATCH_SIZE", "500")
    monkeypatch.setenv("MESSAGE_MAX_LENGTH", "5000")
    monkeypatch.setenv("SEND_RATE_PER_SECOND", "50")
    monkeypatch.setenv("SEND_BURST", "100")
    monkeypatch.setenv("REQUIRE_VERIFIED_SENDER", "false")
    return connections_server


@pytest.fixture
def table(chat_table: str, moto_server: MotoServer):
    """The table as a boto3 resource, for tests that look at stored items directly."""
    return boto3.resource("dynamodb", endpoint_url=moto_server.endpoint).Table(chat_table)
