"""Why a token was rejected: one value per failure, logged and counted as a metric dimension."""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    """A rejection reason. The value is the stable, lower_snake_case name used in logs and metrics."""

    MISSING = "missing"  # no token, or an empty one
    TOO_LARGE = "too_large"  # over the size cap, rejected before any parsing
    MALFORMED = "malformed"  # not three base64url segments, bad JSON, bad header, claims of the wrong type
    WRONG_ALGORITHM = "wrong_algorithm"  # alg is not RS256, or not the alg the key of its kid declares
    UNKNOWN_KEY = "unknown_key"  # no key with the token's kid, even after a (rate-limited) JWKS refetch
    KEYS_UNAVAILABLE = "keys_unavailable"  # no JWKS could be fetched yet: fail closed
    BAD_SIGNATURE = "bad_signature"  # the RS256 signature does not verify with the kid's key
    EXPIRED = "expired"  # exp (+ leeway) is in the past
    NOT_YET_VALID = "not_yet_valid"  # nbf or iat (- leeway) is in the future
    WRONG_ISSUER = "wrong_issuer"  # iss is not this user pool's issuer
    WRONG_AUDIENCE = "wrong_audience"  # aud is none of the configured app client ids
    WRONG_TOKEN_USE = "wrong_token_use"  # token_use is not "id" (an access token, say)
    MISSING_GROUP = "missing_group"  # required groups are configured and the user is in none of them


class TokenRejected(Exception):
    """The token failed verification. ``reason`` says why; the message never contains the token."""

    def __init__(self, reason: Reason, detail: str = "") -> None:
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)
        self.reason = reason
        self.detail = detail
