"""The route functions' environment in these tests: what the stack sets, pointed at the test servers.

The handlers parse their settings when imported (Lambda's init phase), so `install()` runs from
`tests/chat/__init__.py`, before any test module imports them; `harness.FunctionEnvironment` changes
variables for one test and re-reads every function's settings, as a fresh container would.
"""

from __future__ import annotations

import os
import uuid

from tests.support.tokens import DEFAULT_CLIENT_ID, DEFAULT_POOL_ID, DEFAULT_REGION

# The per-connection limits besides sendMessage's (chat.config.RATE_LIMITED_ACTIONS).
RATE_LIMITED = (
    "EDIT_MESSAGE",
    "DELETE_MESSAGE",
    "CREATE_ROOM",
    "JOIN_ROOM",
    "LEAVE_ROOM",
    "MARK_READ",
    "REAUTH",
)
TABLE_NAME = f"chat-{uuid.uuid4().hex[:8]}"
FANOUT_FUNCTION = "chat-test-fanout"
# The stack's defaults (cdk.json), except rate limits high enough for tests that act fast
# (tests/chat/test_floods.py drops them to the defaults).
BASELINE = {
    "TABLE_NAME": TABLE_NAME,
    "FANOUT_FUNCTION_NAME": FANOUT_FUNCTION,
    "MAX_ROOM_MEMBERS": "10000",
    "MAX_CONNECTIONS_PER_USER": "10",
    "PRESENCE_MAX_MEMBERS": "100",
    "FANOUT_BATCH_SIZE": "500",
    # A failed queue record is retried at once (the stack waits 2 s; the queue's redrive is the same).
    "FANOUT_RETRY_DELAY_SECONDS": "0",
    # Until the session's queue exists (tests/chat/conftest.py's lambda_server sets its URL).
    "FANOUT_QUEUE_URL": "http://127.0.0.1:9/no-queue-yet.fifo",
    "SESSION_GRACE_SECONDS": "60",
    "MESSAGE_MAX_LENGTH": "5000",
    "SEND_RATE_PER_SECOND": "50",
    "SEND_BURST": "100",
    **{f"{action}_{kind}": "100" for action in RATE_LIMITED for kind in ("RATE_PER_SECOND", "BURST")},
    "TYPING_INTERVAL_SECONDS": "0.001",
    "REQUIRE_VERIFIED_SENDER": "false",
    "USER_POOL_ID": DEFAULT_POOL_ID,
    "USER_POOL_CLIENT_IDS": DEFAULT_CLIENT_ID,
    "COGNITO_REGION": DEFAULT_REGION,
}
_saved: dict[str, str | None] = {}


def install() -> None:
    """Set the baseline in this process's environment (undone by `uninstall` at the session's end)."""
    for name, value in BASELINE.items():
        _saved.setdefault(name, os.environ.get(name))
        os.environ[name] = value


def uninstall() -> None:
    for name, value in _saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
