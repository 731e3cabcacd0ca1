"""Settings are parsed once, when a handler is imported: a bad value fails the cold start, naming it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from chat.config import ChatSettings, ChatSettingsError
from chat.logic.ratelimit import RateLimit

from tests.chat.baseline import BASELINE

ROOT = Path(__file__).resolve().parents[2]


def cold_start(module: str, then: str = "", **changes: str | None) -> subprocess.CompletedProcess[str]:
    """Import a handler in a fresh interpreter, as Lambda's init phase does (then run `then`)."""
    environ = {**BASELINE, **changes}
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join(str(ROOT / part) for part in ("lambdas", "authorizer", ".")),
        "AWS_DEFAULT_REGION": "ap-northeast-1",
        **{name: value for name, value in environ.items() if value is not None},
    }
    return subprocess.run(
        [sys.executable, "-c", f"import {module}\n{then}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_stacks_values_parse() -> None:
    settings = ChatSettings.for_handler("chat.handlers.broadcast", BASELINE)

    assert settings.table_name == BASELINE["TABLE_NAME"]
    assert settings.rate_limits["sendMessage"] == RateLimit(rate_per_second=50.0, burst=100)
    assert settings.require_verified_sender is False
    assert settings.verifier is not None and settings.verifier.client_ids == (
        BASELINE["USER_POOL_CLIENT_IDS"],
    )
    assert settings.observability.service_name == "chat"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"MESSAGE_MAX_LENGTH": "lots"}, "MESSAGE_MAX_LENGTH must be a whole number"),
        ({"SEND_RATE_PER_SECOND": "nan"}, "SEND_RATE_PER_SECOND must be at least 0"),
        ({"SEND_BURST": "0"}, "SEND_BURST must be at least 1"),
        ({"REQUIRE_VERIFIED_SENDER": "yes"}, "REQUIRE_VERIFIED_SENDER must be true or false"),
        ({"TOKEN_LEEWAY_SECONDS": "5s"}, "TOKEN_LEEWAY_SECONDS must be a number"),
        ({"TABLE_NAME": ""}, "TABLE_NAME must be set"),
        ({"CREATE_ROOM_BURST": "0"}, "CREATE_ROOM_BURST must be at least 1"),
        ({"MARK_READ_RATE_PER_SECOND": "fast"}, "MARK_READ_RATE_PER_SECOND must be a number"),
        ({"TYPING_INTERVAL_SECONDS": "0"}, "TYPING_INTERVAL_SECONDS must be at least 0.001"),
        ({"MAX_ROOMS_PER_USER": "many"}, "MAX_ROOMS_PER_USER must be a whole number"),
    ],
)
def test_a_bad_value_is_refused_with_its_name(changes: dict[str, str], message: str) -> None:
    with pytest.raises(ChatSettingsError, match=message):
        ChatSettings.from_environ({**BASELINE, **changes})


@pytest.mark.parametrize(
    ("module", "missing"),
    [
        ("chat.handlers.lifecycle", "FANOUT_FUNCTION_NAME"),
        ("chat.handlers.broadcast", "FANOUT_FUNCTION_NAME"),
        ("chat.handlers.direct", "USER_POOL_CLIENT_IDS"),
    ],
)
def test_a_handler_without_what_it_needs_fails_at_import(module: str, missing: str) -> None:
    result = cold_start(module, **{missing: None})

    assert result.returncode != 0
    assert f"ChatSettingsError: {missing} must be set" in result.stderr


def test_a_bad_value_fails_the_cold_start_not_each_request() -> None:
    assert cold_start("chat.handlers.direct").returncode == 0

    result = cold_start("chat.handlers.direct", MAX_ROOM_MEMBERS="ten thousand")

    assert result.returncode != 0
    assert "ChatSettingsError: MAX_ROOM_MEMBERS must be a whole number, not 'ten thousand'" in result.stderr


@pytest.mark.parametrize(
    "module", ["chat.handlers.lifecycle", "chat.handlers.broadcast", "chat.handlers.fanout"]
)
def test_only_direct_loads_the_token_verifier_at_init(module: str) -> None:
    """Parsing the verifier's settings must not import PyJWT and cryptography (a cold-start cost)."""
    result = cold_start(module, "import sys; assert 'jwt' not in sys.modules, 'jwt loaded'")

    assert result.returncode == 0, result.stderr
    assert cold_start("chat.handlers.direct", "import sys; assert 'jwt' in sys.modules").returncode == 0
