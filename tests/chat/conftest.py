"""Fixtures for the chat route tests: a table on the moto server, a live `@connections` server."""

from __future__ import annotations

import os
from collections.abc import Iterator

import boto3
import pytest

from local_stack.moto_service import MotoServer
from tests.chat import environment, harness
from tests.chat.harness import FunctionEnvironment
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


@pytest.fixture(scope="session", autouse=True)
def baseline_environment() -> Iterator[None]:
    """The functions' environment, set when tests/chat was imported, is undone after the session."""
    yield
    environment.uninstall()


@pytest.fixture(scope="session")
def chat_table(moto_server: MotoServer) -> Iterator[str]:
    """One table for the chat tests (every test uses fresh ids), named in the functions' TABLE_NAME."""
    name = environment.TABLE_NAME
    saved = os.environ.get("AWS_ENDPOINT_URL_DYNAMODB")
    os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = moto_server.endpoint
    create_table(moto_server.endpoint, name)
    yield name
    if saved is None:
        os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
    else:
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = saved


@pytest.fixture(scope="session")
def connections_server() -> Iterator[ConnectionsServer]:
    with ConnectionsServer() as server:
        yield server


@pytest.fixture(scope="session")
def lambda_server() -> Iterator[LambdaServer]:
    """Lambda's Invoke API for the fan-out function, run in this process (the code under test)."""
    saved = os.environ.get("AWS_ENDPOINT_URL_LAMBDA")
    with harness.lambda_service() as server:
        harness.use_lambda(server)
        os.environ["AWS_ENDPOINT_URL_LAMBDA"] = server.endpoint
        yield server
    if saved is None:
        os.environ.pop("AWS_ENDPOINT_URL_LAMBDA", None)
    else:
        os.environ["AWS_ENDPOINT_URL_LAMBDA"] = saved


@pytest.fixture
def function_env(monkeypatch: pytest.MonkeyPatch) -> FunctionEnvironment:
    """`function_env.set(MAX_ROOM_MEMBERS="3")`: change the functions' environment for one test."""
    return FunctionEnvironment(monkeypatch)


@pytest.fixture(autouse=True)
def chat_env(
    chat_table: str,
    connections_server: ConnectionsServer,
    lambda_server: LambdaServer,
    function_env: FunctionEnvironment,
) -> ConnectionsServer:
    """Every chat test: the table, the connections server as the endpoint, the stack's defaults."""
    function_env.set(**environment.BASELINE, CONNECTIONS_ENDPOINT=connections_server.endpoint)
    return connections_server


@pytest.fixture
def table(chat_table: str, moto_server: MotoServer):
    """The table as a boto3 resource, for tests that look at stored items directly."""
    return boto3.resource("dynamodb", endpoint_url=moto_server.endpoint).Table(chat_table)
