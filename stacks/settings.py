"""Per-environment settings: one frozen dataclass, read from `cdk.json` context and validated at once.

Every value a stack construct needs per environment lives here; constructs take a `StackSettings` and
never read CDK context themselves.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from aws_cdk import aws_logs as logs

from stacks.constants import ENV_NAMES

APPLICATION_LOG_LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")
SYSTEM_LOG_LEVELS = ("DEBUG", "INFO", "WARN")
# The protocol fixes `content` at 1-5000 characters; an environment may only tighten it.
PROTOCOL_MESSAGE_MAX_LENGTH = 5000
# The sizes the tests prove (docs/DATA_MODEL.md, "Limits"): a room of 10,000 members, a user's
# connection map and member items with 100 entries (far under 400 KB), a batch payload of 1,000
# targets (far under Lambda's asynchronous payload limit).
MAX_ROOM_MEMBERS = 10_000
MAX_CONNECTIONS_PER_USER = 100
MAX_FANOUT_BATCH = 1000
# A connection whose session ended is closed after the grace; API Gateway closes every one at 2 h.
MAX_SESSION_GRACE_SECONDS = 7200
# Lambda keeps 100 of an account's concurrency unreserved; at the default quota of 1,000 that
# leaves 900 to reserve (a larger quota allows more: raise this with it).
MAX_RESERVED_CONCURRENCY = 900
# Rooms one user may be in: a user's `$connect` costs one request per room (tested at 500).
MAX_ROOMS_PER_USER = 500
# Per-connection rate limits (docs/PROTOCOL.md), `<action>_rate_per_second` and `<action>_burst`.
RATE_LIMITED = (
    "send",
    "edit_message",
    "delete_message",
    "create_room",
    "join_room",
    "leave_room",
    "mark_read",
    "reauth",
)

_ACCOUNT = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_GROUP = re.compile(r"^[\w+=,.@-]{1,128}$")
# Cognito domain prefixes: lowercase letters, digits and hyphens, not starting or ending with a hyphen,
# and without the words Cognito reserves.
_DOMAIN_PREFIX = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_RESERVED_IN_PREFIX = ("aws", "amazon", "cognito")
# Cognito accepts https redirect URLs, and http only for localhost.
_REDIRECT_URL = re.compile(r"^(https://[^\s#]+|http://localhost(:\d+)?(/[^\s#]*)?)$")


class SettingsError(ValueError):
    """The environment name or one of its settings is invalid; the message says which and why."""


@dataclass(frozen=True)
class StackSettings:
    """What differs between dev, staging and prod. Field names are the keys in `cdk.json`."""

    env_name: str
    # Where to deploy; None falls back to CDK_DEFAULT_ACCOUNT / CDK_DEFAULT_REGION.
    account: str | None
    region: str | None
    # Data: prod retains the table and user pool when the stack is deleted.
    retain_data: bool
    point_in_time_recovery: bool
    deletion_protection: bool
    # Logs: retention is a `aws_logs.RetentionDays` member name, e.g. "ONE_MONTH".
    log_retention: str
    application_log_level: str
    system_log_level: str
    # Cognito.
    id_token_validity_minutes: int
    refresh_token_validity_days: int
    allow_user_password_auth: bool
    token_leeway_seconds: int
    required_groups: tuple[str, ...]
    # WebSocket stage default route throttling.
    throttle_rate_limit: float
    throttle_burst_limit: int
    # Blast radius (docs/INFRASTRUCTURE.md): a lower stage throttle on each route that fans out
    # (BroadcastFunction's), and reserved concurrency that caps the two frame functions so a flood
    # cannot take the concurrency $connect and the authorizer need (null: no reservation, e.g. an
    # account whose concurrency quota is 10, where any reservation fails the deployment).
    broadcast_throttle_rate_limit: float
    broadcast_throttle_burst_limit: int
    broadcast_reserved_concurrency: int | None
    direct_reserved_concurrency: int | None
    # Chat rules handed to the route functions.
    message_max_length: int
    send_rate_per_second: float
    send_burst: int
    edit_message_rate_per_second: float
    edit_message_burst: int
    delete_message_rate_per_second: float
    delete_message_burst: int
    require_verified_sender: bool
    # Floods (docs/PROTOCOL.md, "Rate limits"): per-connection buckets of the other actions that
    # write or fan out, one `typing` per room per interval, and the rooms one user may be in.
    create_room_rate_per_second: float
    create_room_burst: int
    join_room_rate_per_second: float
    join_room_burst: int
    leave_room_rate_per_second: float
    leave_room_burst: int
    mark_read_rate_per_second: float
    mark_read_burst: int
    reauth_rate_per_second: float
    reauth_burst: int
    typing_interval_seconds: float
    max_rooms_per_user: int
    # Rooms that scale (docs/DATA_MODEL.md): members per room, open connections per user, the
    # largest room that hears about people (joins, leaves, presence, typing, read receipts), and
    # the connections one fan-out invocation posts to.
    max_room_members: int
    max_connections_per_user: int
    presence_max_members: int
    fanout_batch_size: int
    # Seconds a connection whose token expired may still `reauth` before the fan-out closes it.
    session_grace_seconds: int
    # Monitoring: alarms go to a topic per environment, and to this address when set.
    alarm_email: str | None
    # Whether this stack sets the account-wide API Gateway CloudWatch role (see docs/INFRASTRUCTURE.md).
    manage_api_gateway_account_role: bool
    # Managed login (authorization code + PKCE) for the web page: a Cognito domain with this prefix,
    # and the page URLs Cognito may redirect to after sign-in and sign-out. Off when the prefix is null.
    managed_login_domain_prefix: str | None
    managed_login_callback_urls: tuple[str, ...] | None
    managed_login_logout_urls: tuple[str, ...] | None

    def __post_init__(self) -> None:
        problems = list(self._problems())
        if problems:
            raise SettingsError(f"environment {self.env_name!r}: {'; '.join(problems)}")

    def _problems(self) -> typing.Iterator[str]:
        if self.account is not None and not _ACCOUNT.match(self.account):
            yield f"account must be 12 digits, got {self.account!r}"
        if self.region is not None and not _REGION.match(self.region):
            yield f"region must look like 'ap-northeast-1', got {self.region!r}"
        if not hasattr(logs.RetentionDays, self.log_retention):
            yield f"log_retention must name a logs.RetentionDays (e.g. ONE_MONTH), got {self.log_retention!r}"
        if self.application_log_level not in APPLICATION_LOG_LEVELS:
            yield f"application_log_level must be one of {', '.join(APPLICATION_LOG_LEVELS)}"
        if self.system_log_level not in SYSTEM_LOG_LEVELS:
            yield f"system_log_level must be one of {', '.join(SYSTEM_LOG_LEVELS)}"
        if not 5 <= self.id_token_validity_minutes <= 1440:
            yield "id_token_validity_minutes must be between 5 and 1440 (Cognito's limits)"
        if not 1 <= self.refresh_token_validity_days <= 3650:
            yield "refresh_token_validity_days must be between 1 and 3650 (Cognito's limits)"
        if self.refresh_token_validity_days * 1440 <= self.id_token_validity_minutes:
            yield "refresh_token_validity_days must outlast id_token_validity_minutes"
        if not 0 <= self.token_leeway_seconds <= 300:
            yield "token_leeway_seconds must be between 0 and 300"
        for group in self.required_groups:
            if not _GROUP.match(group):
                yield f"required_groups: {group!r} is not a Cognito group name"
        if self.throttle_rate_limit <= 0 or self.throttle_burst_limit < 1:
            yield "throttle_rate_limit must be > 0 and throttle_burst_limit >= 1"
        if not 0 < self.broadcast_throttle_rate_limit <= self.throttle_rate_limit:
            yield "broadcast_throttle_rate_limit must be > 0 and at most throttle_rate_limit"
        if not 1 <= self.broadcast_throttle_burst_limit <= self.throttle_burst_limit:
            yield "broadcast_throttle_burst_limit must be >= 1 and at most throttle_burst_limit"
        for name in ("broadcast_reserved_concurrency", "direct_reserved_concurrency"):
            value = getattr(self, name)
            if value is not None and not 1 <= value <= MAX_RESERVED_CONCURRENCY:
                yield f"{name} must be null or between 1 and {MAX_RESERVED_CONCURRENCY}"
        if not 1 <= self.message_max_length <= PROTOCOL_MESSAGE_MAX_LENGTH:
            yield f"message_max_length must be between 1 and {PROTOCOL_MESSAGE_MAX_LENGTH} (protocol limit)"
        for action in RATE_LIMITED:
            if getattr(self, f"{action}_rate_per_second") <= 0 or getattr(self, f"{action}_burst") < 1:
                yield f"{action}_rate_per_second must be > 0 and {action}_burst >= 1"
        if not 0.1 <= self.typing_interval_seconds <= 60:
            yield "typing_interval_seconds must be between 0.1 and 60"
        if not 1 <= self.max_rooms_per_user <= MAX_ROOMS_PER_USER:
            yield f"max_rooms_per_user must be between 1 and {MAX_ROOMS_PER_USER} (the tested limit)"
        if not 2 <= self.max_room_members <= MAX_ROOM_MEMBERS:
            yield f"max_room_members must be between 2 and {MAX_ROOM_MEMBERS} (the tested limit)"
        if not 1 <= self.max_connections_per_user <= MAX_CONNECTIONS_PER_USER:
            yield f"max_connections_per_user must be between 1 and {MAX_CONNECTIONS_PER_USER}"
        if not 0 <= self.presence_max_members <= self.max_room_members:
            yield "presence_max_members must be between 0 and max_room_members"
        if not 1 <= self.fanout_batch_size <= MAX_FANOUT_BATCH:
            yield f"fanout_batch_size must be between 1 and {MAX_FANOUT_BATCH}"
        if not 0 <= self.session_grace_seconds <= MAX_SESSION_GRACE_SECONDS:
            yield f"session_grace_seconds must be between 0 and {MAX_SESSION_GRACE_SECONDS}"
        if self.alarm_email is not None and not _EMAIL.match(self.alarm_email):
            yield f"alarm_email must be an e-mail address or null, got {self.alarm_email!r}"
        yield from self._managed_login_problems()

    def _managed_login_problems(self) -> typing.Iterator[str]:
        prefix, callbacks = self.managed_login_domain_prefix, self.managed_login_callback_urls
        urls = (*(callbacks or ()), *(self.managed_login_logout_urls or ()))
        if prefix is None:
            if urls:
                yield "managed_login_callback_urls/logout_urls need managed_login_domain_prefix"
            return
        if not _DOMAIN_PREFIX.match(prefix) or any(word in prefix for word in _RESERVED_IN_PREFIX):
            yield (
                "managed_login_domain_prefix must be 1-63 lowercase letters, digits or inner hyphens, "
                f"without aws, amazon or cognito, got {prefix!r}"
            )
        if not callbacks:
            yield "managed_login_callback_urls must list the web page's URL when managed login is on"
        for url in urls:
            if not _REDIRECT_URL.match(url):
                yield f"managed login URL {url!r} must be https:// (http:// only for localhost), without #"


def load_settings(env_name: str, environments: Mapping[str, Any] | None) -> StackSettings:
    """The validated settings of `env_name` from the `environments` context of `cdk.json`."""
    if env_name not in ENV_NAMES:
        raise SettingsError(f"unknown environment {env_name!r}; known environments: {', '.join(ENV_NAMES)}")
    entry = (environments or {}).get(env_name)
    if not isinstance(entry, Mapping):
        raise SettingsError(f"environment {env_name!r} has no settings in cdk.json context 'environments'")
    hints = typing.get_type_hints(StackSettings)
    expected = {field.name for field in fields(StackSettings)} - {"env_name"}
    # Optional settings may be null or absent (CDK drops null context values on the way in).
    optional = {name for name in expected if type(None) in typing.get_args(hints[name])}
    unknown, missing = set(entry) - expected, expected - optional - set(entry)
    if unknown or missing:
        raise SettingsError(
            f"environment {env_name!r}: unknown keys {sorted(unknown)}, missing keys {sorted(missing)}"
        )
    values = {name: _typed(env_name, name, hints[name], entry.get(name)) for name in expected}
    return StackSettings(env_name=env_name, **values)


def _typed(env_name: str, name: str, hint: Any, value: Any) -> Any:
    """`value` as the field's type; JSON has no tuples and no int/float distinction worth keeping."""
    optional = type(None) in typing.get_args(hint)
    if value is None and optional:
        return None
    base = next((arg for arg in typing.get_args(hint) if arg is not type(None)), hint) if optional else hint
    if base is bool and isinstance(value, bool):
        return value
    if base is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if base is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if base is str and isinstance(value, str):
        return value
    is_str_list = isinstance(value, list) and all(isinstance(item, str) for item in value)
    if typing.get_origin(base) is tuple and is_str_list:
        return tuple(value)
    raise SettingsError(f"environment {env_name!r}: {name} must be {_describe(hint)}, got {value!r}")


def _describe(hint: Any) -> str:
    if typing.get_origin(hint) is tuple:
        return "a list of strings"
    names = {bool: "true/false", int: "an integer", float: "a number", str: "a string"}
    if typing.get_origin(hint) is None:
        return names[hint]
    args = typing.get_args(hint)
    described = " or ".join(_describe(arg) for arg in args if arg is not type(None))
    return described + (" or null" if type(None) in args else "")
