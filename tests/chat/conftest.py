"""Fixtures for the chat route tests: a table on the moto server, a live `@connections` server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import boto3
import pytest

from local_stack.moto_service import MotoServer
from tests.chat import baseline, harness
from tests.chat.harness import FunctionEnvironment
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


@pytest.fixture(scope="session", autouse=True)
def baseline_environment() -> Iterator[None]:
    """The functions' environment, set when tests/chat was imported, is undone after the session."""
    yield
    baseline.uninstall()


@pytest.fixture(scope="session")
def chat_table(moto_server: MotoServer) -> Iterator[str]:
    """One table for the chat tests (every test uses fresh ids), named in the functions' TABLE_NAME."""
    with environment(AWS_ENDPOINT_URL_DYNAMODB=moto_server.endpoint):
        create_table(moto_server.endpoint, baseline.TABLE_NAME)
        yield baseline.TABLE_NAME


@pytest.fixture(scope="session")
def connections_server() -> Iterator[ConnectionsServer]:
    with ConnectionsServer() as server:
        yield server


@pytest.fixture(scope="session")
def fanout_queues(moto_server: MotoServer) -> harness.FanoutQueues:
    """The FIFO queue of the rooms' ordered jobs and its dead-letter queue, in moto, as the stack
    makes them (redrive after three receives)."""
    return harness.create_fanout_queues(moto_server.endpoint)


@pytest.fixture(scope="session")
def lambda_server(moto_server: MotoServer, fanout_queues: harness.FanoutQueues) -> Iterator[LambdaServer]:
    """Lambda's Invoke API and the queue's event source mapping for the fan-out function, run in
    this process (the code under test)."""
    with (
        harness.lambda_service() as server,
        environment(
            AWS_ENDPOINT_URL_LAMBDA=server.endpoint,
            AWS_ENDPOINT_URL_SQS=moto_server.endpoint,
            FANOUT_QUEUE_URL=fanout_queues.url,
        ),
    ):
        harness.use_lambda(server)
        server.subscribe(fanout_queues.sqs, fanout_queues.url, baseline.FANOUT_FUNCTION)
        yield server


@pytest.fixture
def function_env(monkeypatch: pytest.MonkeyPatch) -> FunctionEnvironment:
    """`function_env.set(MAX_ROOM_MEMBERS="3")`: change the functions' environment for one test."""
    return FunctionEnvironment(monkeypatch)


@pytest.fixture(autouse=True)
def chat_env(
    chat_table: str,
    connections_server: ConnectionsServer,
    lambda_server: LambdaServer,
    fanout_queues: harness.FanoutQueues,
    function_env: FunctionEnvironment,
) -> ConnectionsServer:
    """Every chat test: the table, the connections server as the endpoint, the stack's defaults."""
    function_env.set(
        **{
            **baseline.BASELINE,
            "CONNECTIONS_ENDPOINT": connections_server.endpoint,
            "FANOUT_QUEUE_URL": fanout_queues.url,
        }
    )
    return connections_server


@pytest.fixture
def table(chat_table: str, moto_server: MotoServer):
    """The table as a boto3 resource, for tests that look at stored items directly."""
    return boto3.resource("dynamodb", endpoint_url=moto_server.endpoint).Table(chat_table)
