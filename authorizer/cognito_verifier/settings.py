"""The verifier's settings, from the environment variables of docs/ARCHITECTURE.md (read once, at init)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_LEEWAY_SECONDS = 5.0

USER_POOL_ID = "USER_POOL_ID"
USER_POOL_CLIENT_IDS = "USER_POOL_CLIENT_IDS"
COGNITO_REGION = "COGNITO_REGION"
JWKS_URL = "JWKS_URL"
TOKEN_LEEWAY_SECONDS = "TOKEN_LEEWAY_SECONDS"
REQUIRED_GROUPS = "REQUIRED_GROUPS"
# Every variable the verifier reads (AWS_REGION, the fallback for COGNITO_REGION, is Lambda's own).
VARIABLES: frozenset[str] = frozenset(
    {USER_POOL_ID, USER_POOL_CLIENT_IDS, COGNITO_REGION, JWKS_URL, TOKEN_LEEWAY_SECONDS, REQUIRED_GROUPS}
)


@dataclass(frozen=True)
class VerifierSettings:
    """What `CognitoIdTokenVerifier` needs to know about the pool; checked again when it is built."""

    user_pool_id: str
    client_ids: tuple[str, ...]
    region: str
    jwks_url: str | None = None
    leeway: float = DEFAULT_LEEWAY_SECONDS
    required_groups: tuple[str, ...] = ()

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> VerifierSettings:
        """Raises ValueError, naming the variable, for a value that is not a number where one is due."""
        env = os.environ if environ is None else environ
        leeway = env.get(TOKEN_LEEWAY_SECONDS)
        try:
            parsed_leeway = float(leeway) if leeway else DEFAULT_LEEWAY_SECONDS
        except ValueError:
            raise ValueError(f"{TOKEN_LEEWAY_SECONDS} must be a number of seconds, not {leeway!r}") from None
        return cls(
            user_pool_id=env.get(USER_POOL_ID, ""),
            client_ids=_split_list(env.get(USER_POOL_CLIENT_IDS)),
            region=env.get(COGNITO_REGION) or env.get("AWS_REGION", ""),
            jwks_url=env.get(JWKS_URL) or None,
            leeway=parsed_leeway,
            required_groups=_split_list(env.get(REQUIRED_GROUPS)),
        )


def _split_list(value: str | None) -> tuple[str, ...]:
    return tuple(item.strip() for item in (value or "").split(",") if item.strip())
