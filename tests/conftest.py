"""Fixtures shared by every test folder: fake AWS credentials, a moto server on 127.0.0.1, and the
local stack that tests/e2e and tests/web drive (started once, on first use)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from local_stack.moto_service import MotoServer
from tests.support.local_stack import LocalStackProcess

REGION = "ap-northeast-1"

# No test may reach AWS: fake credentials, a fixed region, no metadata-service look-ups.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "20",
    }
)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    """One moto server (Cognito + DynamoDB over real HTTP) for the whole session."""
    with MotoServer() as server:
        yield server


@pytest.fixture(scope="session")
def chat_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStackProcess]:
    """The real product, run by the local stack: the dev environment, synthesized with host bundling.

    One for the session: tests/e2e and tests/web share it (each test signs up users of its own).
    """
    process = LocalStackProcess(tmp_path_factory.mktemp("chat-dev"), env="dev")
    process.start()
    yield process
    process.stop()


@pytest.fixture(scope="session")
def outputs(chat_stack: LocalStackProcess) -> dict[str, str]:
    return chat_stack.outputs
