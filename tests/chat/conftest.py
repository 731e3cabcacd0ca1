"""Fixtures for the chat route tests: a table on the moto server, a live `@connections` server."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import boto3
import pytest

from local_stack.moto_service import MotoServer
from tests.chat import harness
from tests.support.chat_table import create_table
from tests.support.connections_server import ConnectionsServer
from tests.support.lambda_server import LambdaServer


@contextmanager
def environment(**values: str) -> Iterator[None]:
    """Set environment variables for a session-scoped fixture (monkeypatch is per test), then restore."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="session")
def chat_table(moto_server: MotoServer) -> Iterator[str]:
    """One table for the chat tests (every test uses fresh ids); the route code finds it by env."""
    name = f"chat-{uuid.uuid4().hex[:8]}"
    with environment(AWS_ENDPOINT_URL_DYNAMODB=moto_server.endpoint, TABLE_NAME=name):
        create_table(moto_server.endpoint, name)
        yield name


@pytest.fixture(scope="session")
def connections_server() -> Iterator[ConnectionsServer]:
    with ConnectionsServer() as server:
        yield server


@pytest.fixture(scope="session")
def lambda_server() -> Iterator[LambdaServer]:
    """Lambda's Invoke API for the fan-out function, run in this process (the code under test)."""
    with harness.lambda_service() as server:
        harness.use_lambda(server)
        with environment(
            AWS_ENDPOINT_URL_LAMBDA=server.endpoint, FANOUT_FUNCTION_NAME=harness.FANOUT_FUNCTION
        ):
            yield server


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
