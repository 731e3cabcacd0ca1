"""The checks Cognito's documentation asks of an ID token's claims, once its signature verified."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from cognito_verifier.reasons import Reason, TokenRejected


@dataclass(frozen=True)
class VerifiedIdToken:
    """Who the verified token says the caller is."""

    sub: str
    username: str
    email: str | None
    expires_at: int  # epoch seconds
    groups: tuple[str, ...]
    # What other people see: preferred_username, else name, else the e-mail's local part, else the
    # username (never the whole e-mail address).
    display_name: str = ""


@dataclass(frozen=True)
class ClaimRules:
    issuer: str
    client_ids: frozenset[str]
    leeway: float
    required_groups: frozenset[str]  # the user must be in at least one; empty: no group check


def _time(claims: dict[str, Any], name: str) -> float:
    value = claims.get(name)
    # bool is an int subclass: `"exp": true` is not a time; JSON can spell infinity (1e999).
    if type(value) is int or (type(value) is float and math.isfinite(value)):
        return value
    raise TokenRejected(Reason.MALFORMED, f"{name} is not a number")


def _string(claims: dict[str, Any], name: str) -> str:
    value = claims.get(name)
    if not isinstance(value, str) or not value:
        raise TokenRejected(Reason.MALFORMED, f"{name} is missing or not a string")
    return value


def check(claims: dict[str, Any], rules: ClaimRules, now: float) -> VerifiedIdToken:
    """Check `claims` against `rules` at time `now`; raise :class:`TokenRejected` with the reason."""
    expires_at = _time(claims, "exp")
    issued_at = _time(claims, "iat")
    not_before = _time(claims, "nbf") if "nbf" in claims else None
    if now - rules.leeway >= expires_at:
        raise TokenRejected(Reason.EXPIRED)
    if not_before is not None and now + rules.leeway < not_before:
        raise TokenRejected(Reason.NOT_YET_VALID, "nbf is in the future")
    if now + rules.leeway < issued_at:
        raise TokenRejected(Reason.NOT_YET_VALID, "iat is in the future")
    if issued_at > expires_at:
        raise TokenRejected(Reason.MALFORMED, "iat is after exp")

    if claims.get("iss") != rules.issuer:
        raise TokenRejected(Reason.WRONG_ISSUER)
    # token_use before aud: an access token has no aud at all, and "wrong token use" is the news.
    if claims.get("token_use") != "id":
        raise TokenRejected(Reason.WRONG_TOKEN_USE)
    audience = claims.get("aud")
    if not isinstance(audience, str) or audience not in rules.client_ids:
        raise TokenRejected(Reason.WRONG_AUDIENCE)

    sub = _string(claims, "sub")
    username = _string(claims, "cognito:username")
    email = claims.get("email")
    raw_groups = claims.get("cognito:groups", [])
    if not isinstance(raw_groups, list) or not all(isinstance(group, str) for group in raw_groups):
        raise TokenRejected(Reason.MALFORMED, "cognito:groups is not a list of strings")
    groups = tuple(raw_groups)
    if rules.required_groups and rules.required_groups.isdisjoint(groups):
        raise TokenRejected(Reason.MISSING_GROUP)
    email = email if isinstance(email, str) else None
    return VerifiedIdToken(
        sub, username, email, int(expires_at), groups, display_name=_display_name(claims, username, email)
    )


# Authorizer context values are capped at 8 KB in all; a name is shown in a chat list.
MAX_DISPLAY_NAME_CHARS = 64


def _display_name(claims: dict[str, Any], username: str, email: str | None) -> str:
    for claim in ("preferred_username", "name"):
        value = claims.get(claim)
        if isinstance(value, str) and value.strip():
            return value.strip()[:MAX_DISPLAY_NAME_CHARS]
    if email and "@" in email:
        return email.split("@", 1)[0][:MAX_DISPLAY_NAME_CHARS]
    return username[:MAX_DISPLAY_NAME_CHARS]
