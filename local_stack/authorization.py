"""API Gateway's reading of a Lambda REQUEST authorizer's answer for a WebSocket `$connect`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl


@dataclass(frozen=True)
class Decision:
    """``status`` is None for Allow, else the HTTP status the handshake is refused with."""

    status: int | None
    principal_id: str = ""
    context: dict[str, str] = field(default_factory=dict)


def identity_present(sources: tuple[str, ...], query: dict[str, str], headers: dict[str, str]) -> bool:
    """Whether every identity source (``route.request.querystring.X`` / ``.header.X``) has a value."""
    lowered = {key.lower(): value for key, value in headers.items()}
    for source in sources:
        _, _, kind_and_name = source.partition("route.request.")
        kind, _, name = kind_and_name.partition(".")
        value = query.get(name) if kind == "querystring" else lowered.get(name.lower())
        if not value:
            return False
    return True


def parse_query(raw: str) -> dict[str, str]:
    return dict(parse_qsl(raw, keep_blank_values=True))


def decide(result: Any, method_arn: str) -> Decision:
    """Allow, Deny (403), or a malformed answer (403) or context (500), as API Gateway treats them."""
    if not isinstance(result, dict) or not isinstance(result.get("policyDocument"), dict):
        return Decision(403)
    statements = result["policyDocument"].get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not all(isinstance(item, dict) for item in statements):
        return Decision(403)
    effects = {item.get("Effect") for item in statements if _applies(item, method_arn)}
    if "Deny" in effects or "Allow" not in effects:
        return Decision(403)
    context = result.get("context") or {}
    if not isinstance(context, dict) or not all(_is_primitive(value) for value in context.values()):
        return Decision(500)
    return Decision(None, str(result.get("principalId", "")), {k: _stringify(v) for k, v in context.items()})


def _applies(statement: dict[str, Any], method_arn: str) -> bool:
    actions = _as_list(statement.get("Action"))
    resources = _as_list(statement.get("Resource"))
    return any(_matches(pattern, "execute-api:Invoke") for pattern in actions) and any(
        _matches(pattern, method_arn) for pattern in resources
    )


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _matches(pattern: str, value: str) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value) is not None


def _is_primitive(value: Any) -> bool:
    return isinstance(value, str | int | float | bool)


def _stringify(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
