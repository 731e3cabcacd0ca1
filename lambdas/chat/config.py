"""A function's settings, parsed once from its environment at import (set by the stack; docs/ARCHITECTURE.md).

Each handler module parses them when Lambda imports it (the init phase), so a missing or bad value
fails the cold start with an error naming the variable, instead of every request.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from cognito_verifier import settings as verifier_variables
from cognito_verifier.settings import VerifierSettings

import route_keys
from chat.logic.ratelimit import RateLimit

TABLE_NAME = "TABLE_NAME"
MESSAGE_MAX_LENGTH = "MESSAGE_MAX_LENGTH"
REQUIRE_VERIFIED_SENDER = "REQUIRE_VERIFIED_SENDER"
CONNECTIONS_ENDPOINT = "CONNECTIONS_ENDPOINT"
MAX_ROOM_MEMBERS = "MAX_ROOM_MEMBERS"
MAX_CONNECTIONS_PER_USER = "MAX_CONNECTIONS_PER_USER"
PRESENCE_MAX_MEMBERS = "PRESENCE_MAX_MEMBERS"
FANOUT_FUNCTION_NAME = "FANOUT_FUNCTION_NAME"
FANOUT_BATCH_SIZE = "FANOUT_BATCH_SIZE"
FANOUT_QUEUE_URL = "FANOUT_QUEUE_URL"
FANOUT_RETRY_DELAY_SECONDS = "FANOUT_RETRY_DELAY_SECONDS"
SESSION_GRACE_SECONDS = "SESSION_GRACE_SECONDS"
TYPING_INTERVAL_SECONDS = "TYPING_INTERVAL_SECONDS"
MAX_ROOMS_PER_USER = "MAX_ROOMS_PER_USER"
POWERTOOLS_SERVICE_NAME = "POWERTOOLS_SERVICE_NAME"
POWERTOOLS_METRICS_NAMESPACE = "POWERTOOLS_METRICS_NAMESPACE"

# Per-connection rate limits (docs/PROTOCOL.md, "Rate limits"): each limited action's variables are
# `<PREFIX>_RATE_PER_SECOND` and `<PREFIX>_BURST`, with these defaults (as cdk.json ships them).
RATE_LIMITED_ACTIONS: dict[str, tuple[str, RateLimit]] = {
    route_keys.CREATE_ROOM: ("CREATE_ROOM", RateLimit(rate_per_second=0.5, burst=10)),
    route_keys.JOIN_ROOM: ("JOIN_ROOM", RateLimit(rate_per_second=2, burst=20)),
    route_keys.LEAVE_ROOM: ("LEAVE_ROOM", RateLimit(rate_per_second=2, burst=20)),
    route_keys.SEND_MESSAGE: ("SEND", RateLimit(rate_per_second=5, burst=10)),
    route_keys.EDIT_MESSAGE: ("EDIT_MESSAGE", RateLimit(rate_per_second=1, burst=5)),
    route_keys.DELETE_MESSAGE: ("DELETE_MESSAGE", RateLimit(rate_per_second=2, burst=10)),
    route_keys.MARK_READ: ("MARK_READ", RateLimit(rate_per_second=5, burst=20)),
    route_keys.REAUTH: ("REAUTH", RateLimit(rate_per_second=0.2, burst=5)),
}
RATE_LIMIT_VARIABLES: frozenset[str] = frozenset(
    f"{prefix}_{suffix}"
    for prefix, _ in RATE_LIMITED_ACTIONS.values()
    for suffix in ("RATE_PER_SECOND", "BURST")
)

# Every variable a route function or the fan-out function reads: the stack sets no other.
VARIABLES: frozenset[str] = frozenset(
    {
        TABLE_NAME,
        MESSAGE_MAX_LENGTH,
        REQUIRE_VERIFIED_SENDER,
        CONNECTIONS_ENDPOINT,
        MAX_ROOM_MEMBERS,
        MAX_CONNECTIONS_PER_USER,
        PRESENCE_MAX_MEMBERS,
        FANOUT_FUNCTION_NAME,
        FANOUT_BATCH_SIZE,
        FANOUT_QUEUE_URL,
        FANOUT_RETRY_DELAY_SECONDS,
        SESSION_GRACE_SECONDS,
        TYPING_INTERVAL_SECONDS,
        MAX_ROOMS_PER_USER,
        POWERTOOLS_SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE,
    }
    | RATE_LIMIT_VARIABLES
    | verifier_variables.VARIABLES
)
_VERIFIER_REQUIRED = (
    verifier_variables.USER_POOL_ID,
    verifier_variables.USER_POOL_CLIENT_IDS,
    verifier_variables.COGNITO_REGION,
)
# What each handler module needs set, on top of TABLE_NAME. FanoutFunction's CONNECTIONS_ENDPOINT is
# checked per job instead: a job it cannot post fails its invocation into the failure queue.
REQUIRED_BY_HANDLER: dict[str, tuple[str, ...]] = {
    "chat.handlers.lifecycle": (FANOUT_FUNCTION_NAME,),
    "chat.handlers.direct": _VERIFIER_REQUIRED,
    "chat.handlers.broadcast": (FANOUT_FUNCTION_NAME, FANOUT_QUEUE_URL),
    "chat.handlers.fanout": (FANOUT_QUEUE_URL,),
}


class ChatSettingsError(ValueError):
    """A variable is missing or its value cannot be used; the message names the variable."""


@dataclass(frozen=True)
class ObservabilitySettings:
    """The Powertools names: read at import by chat.observability, before any handler runs."""

    service_name: str
    metrics_namespace: str

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ) -> ObservabilitySettings:
        return cls(
            service_name=environ.get(POWERTOOLS_SERVICE_NAME) or "chat",
            metrics_namespace=environ.get(POWERTOOLS_METRICS_NAMESPACE) or "ServerlessChat",
        )


@dataclass(frozen=True)
class ChatSettings:
    """Everything the chat functions read from their environment, typed and checked."""

    table_name: str
    message_max_length: int
    require_verified_sender: bool
    connections_endpoint: str | None
    # Rooms that scale (docs/DATA_MODEL.md): a room's member cap, a user's open connections, the
    # largest room that hears about people (joins, leaves, presence, typing, read receipts).
    max_room_members: int
    max_connections_per_user: int
    presence_max_members: int
    # The fan-out: the function that posts, and how many connections one invocation posts to.
    fanout_function_name: str | None
    fanout_batch_size: int
    # The FIFO queue of room-ordered jobs (its message group is the room), and how long a job that
    # failed stays invisible before its group is retried (docs/ARCHITECTURE.md, "Order").
    fanout_queue_url: str | None
    fanout_retry_delay_seconds: int
    # Seconds a connection whose session ended may still `reauth` before the fan-out closes it.
    session_grace_seconds: int
    # Floods and caps: each limited action's bucket (by route key), one `typing` per room per
    # interval, the rooms one user may be in.
    rate_limits: Mapping[str, RateLimit]
    typing_interval_seconds: float
    max_rooms_per_user: int
    observability: ObservabilitySettings
    # DirectFunction's `reauth` verifies tokens as the authorizer does; None where the pool is not set.
    verifier: VerifierSettings | None

    @classmethod
    def from_environ(
        cls, environ: Mapping[str, str] = os.environ, *, required: Iterable[str] = ()
    ) -> ChatSettings:
        """Parse and check every variable; raises ChatSettingsError naming the first one that is wrong."""
        missing = [name for name in (TABLE_NAME, *required) if not environ.get(name)]
        if missing:
            raise ChatSettingsError(f"{', '.join(missing)} must be set (the stack sets it)")
        try:
            verifier = (
                VerifierSettings.from_environ(environ)
                if environ.get(verifier_variables.USER_POOL_ID)
                else None
            )
        except ValueError as exc:
            raise ChatSettingsError(str(exc)) from None
        return cls(
            table_name=environ[TABLE_NAME],
            message_max_length=_integer(environ, MESSAGE_MAX_LENGTH, "5000", minimum=1),
            require_verified_sender=_flag(environ, REQUIRE_VERIFIED_SENDER, "false"),
            connections_endpoint=environ.get(CONNECTIONS_ENDPOINT) or None,
            max_room_members=_integer(environ, MAX_ROOM_MEMBERS, "10000", minimum=1),
            max_connections_per_user=_integer(environ, MAX_CONNECTIONS_PER_USER, "10", minimum=1),
            presence_max_members=_integer(environ, PRESENCE_MAX_MEMBERS, "100", minimum=0),
            fanout_function_name=environ.get(FANOUT_FUNCTION_NAME) or None,
            fanout_batch_size=_integer(environ, FANOUT_BATCH_SIZE, "500", minimum=1),
            fanout_queue_url=environ.get(FANOUT_QUEUE_URL) or None,
            fanout_retry_delay_seconds=_integer(environ, FANOUT_RETRY_DELAY_SECONDS, "2", minimum=0),
            session_grace_seconds=_integer(environ, SESSION_GRACE_SECONDS, "60", minimum=0),
            rate_limits=_rate_limits(environ),
            typing_interval_seconds=_decimal(environ, TYPING_INTERVAL_SECONDS, "2", minimum=0.001),
            max_rooms_per_user=_integer(environ, MAX_ROOMS_PER_USER, "500", minimum=1),
            observability=ObservabilitySettings.from_environ(environ),
            verifier=verifier,
        )

    @classmethod
    def for_handler(cls, module: str, environ: Mapping[str, str] = os.environ) -> ChatSettings:
        """The settings of the function whose handler is in `module` (e.g. `chat.handlers.direct`)."""
        return cls.from_environ(environ, required=REQUIRED_BY_HANDLER[module])


def unknown_variables(environ: Iterable[str]) -> set[str]:
    """Names among `environ` that no chat function reads (a misspelling in the stack, say)."""
    return set(environ) - VARIABLES


def _rate_limits(environ: Mapping[str, str]) -> dict[str, RateLimit]:
    limits = {}
    for action, (prefix, default) in RATE_LIMITED_ACTIONS.items():
        rate = _decimal(environ, f"{prefix}_RATE_PER_SECOND", f"{default.rate_per_second:g}", minimum=0)
        burst = _integer(environ, f"{prefix}_BURST", str(default.burst), minimum=1)
        limits[action] = RateLimit(rate_per_second=rate, burst=burst)
    return limits


def _integer(environ: Mapping[str, str], name: str, default: str, *, minimum: int) -> int:
    return int(_number(environ, name, default, minimum=minimum, integer=True))


def _decimal(environ: Mapping[str, str], name: str, default: str, *, minimum: float) -> float:
    return _number(environ, name, default, minimum=minimum, integer=False)


def _number(environ: Mapping[str, str], name: str, default: str, *, minimum: float, integer: bool) -> float:
    raw = environ.get(name) or default
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        kind = "a whole number" if integer else "a number"
        raise ChatSettingsError(f"{name} must be {kind}, not {raw!r}") from None
    if not value >= minimum:  # also refuses NaN
        raise ChatSettingsError(f"{name} must be at least {minimum:g}, not {raw!r}")
    return value


def _flag(environ: Mapping[str, str], name: str, default: str) -> bool:
    raw = (environ.get(name) or default).strip().lower()
    if raw not in ("true", "false"):
        raise ChatSettingsError(f"{name} must be true or false, not {raw!r}")
    return raw == "true"
