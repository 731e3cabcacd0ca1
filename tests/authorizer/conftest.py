"""Fixtures for the authorizer tests: real keys, a real JWKS server on 127.0.0.1, a settable clock."""

from __future__ import annotations

import importlib
import sys
import time
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest
from cognito_verifier import CognitoIdTokenVerifier

from tests.support.jwks_server import JwksServer
from tests.support.tokens import DEFAULT_CLIENT_ID, TokenIssuer, generate_key

SECOND_CLIENT_ID = "testclient0000000000000002"


class Clock:
    """A wall clock that tests move by hand (starts at the real time)."""

    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def issuer() -> TokenIssuer:
    """A pool with two app clients, publishing two keys (tokens are signed with the first)."""
    return TokenIssuer(
        client_ids=(DEFAULT_CLIENT_ID, SECOND_CLIENT_ID),
        keys=(generate_key("key-a"), generate_key("key-b")),
    )


@pytest.fixture
def jwks_server(issuer: TokenIssuer) -> Iterator[JwksServer]:
    with JwksServer(issuer.jwks()) as server:
        yield server


VerifierFactory = Callable[..., CognitoIdTokenVerifier]


@pytest.fixture
def make_verifier(issuer: TokenIssuer, jwks_server: JwksServer, clock: Clock) -> VerifierFactory:
    """Build a verifier for `issuer`'s pool against the JWKS server; keyword arguments override."""

    def make(**overrides: Any) -> CognitoIdTokenVerifier:
        settings: dict[str, Any] = {
            "user_pool_id": issuer.user_pool_id,
            "client_ids": issuer.client_ids,
            "region": issuer.region,
            "jwks_url": jwks_server.url,
            "leeway": 5,
            "fetch_timeout": 1.0,
            "refetch_cooldown": 10,
            "clock": clock,
        }
        settings.update(overrides)
        return CognitoIdTokenVerifier(**settings)

    return make


@pytest.fixture
def verifier(make_verifier: VerifierFactory) -> CognitoIdTokenVerifier:
    return make_verifier()


@pytest.fixture
def load_handler(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[dict[str, str]], ModuleType]]:
    """Import authorizer/handler.py afresh (its verifier is built at import) with `env` set."""

    def load(env: dict[str, str]) -> ModuleType:
        for name in ("JWKS_URL", "REQUIRED_GROUPS", "TOKEN_LEEWAY_SECONDS", "COGNITO_REGION"):
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        sys.modules.pop("handler", None)
        return importlib.import_module("handler")

    yield load
    sys.modules.pop("handler", None)
