"""Fixtures shared by every test folder: fake AWS credentials and a moto server on 127.0.0.1."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from local_stack.moto_service import MotoServer

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
