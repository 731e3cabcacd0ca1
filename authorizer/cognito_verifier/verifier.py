"""CognitoIdTokenVerifier: the whole check of a Cognito ID token, in the order that is safe.

1. size cap, shape and header (no key touched; `alg` must be RS256, `kid` well formed);
2. the key of the kid (JWKS cache with a refetch penalty box) and the algorithm it declares;
3. the RS256 signature over the exact bytes received;
4. only then the payload: exp/nbf/iat with leeway, iss, aud, token_use, sub, groups.

The hot path is parsed here, not by ``jwt.decode``: PyJWT checks the base64url alphabet of every
segment one character at a time in a Python generator and re-encodes each segment to prove it
canonical, which costs more than the RSA verification itself. Here one C regular expression checks
the alphabet, a last-character test proves the signature canonical, and a header already checked is
not parsed again (docs/AUTHORIZER.md has the figures). PyJWT parses and validates the JWKS keys.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from cognito_verifier import compact
from cognito_verifier.claims import ClaimRules, VerifiedIdToken, check
from cognito_verifier.fetch import check_url
from cognito_verifier.keys import JwksCache
from cognito_verifier.reasons import Reason, TokenRejected
from cognito_verifier.settings import DEFAULT_LEEWAY_SECONDS, VerifierSettings

DEFAULT_FETCH_TIMEOUT_SECONDS = 2.0
MAX_FETCH_TIMEOUT_SECONDS = 3.0
DEFAULT_REFETCH_COOLDOWN_SECONDS = 10.0
DEFAULT_KEYS_MAX_AGE_SECONDS = 3600.0
DEFAULT_MAX_TOKEN_LENGTH = 8192

_CHECKED_HEADERS_MAX = 16


def expected_issuer(region: str, user_pool_id: str) -> str:
    return f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"


def cognito_jwks_url(issuer: str) -> str:
    """Where Cognito publishes a pool's keys (JWKS_URL overrides it, e.g. for moto)."""
    return f"{issuer}/.well-known/jwks.json"


class CognitoIdTokenVerifier:
    """Verifies ID tokens of one user pool for a set of app clients. Build one per process."""

    def __init__(
        self,
        *,
        user_pool_id: str,
        client_ids: Iterable[str],
        region: str,
        jwks_url: str | None = None,
        leeway: float = DEFAULT_LEEWAY_SECONDS,
        required_groups: Iterable[str] = (),
        fetch_timeout: float = DEFAULT_FETCH_TIMEOUT_SECONDS,
        refetch_cooldown: float = DEFAULT_REFETCH_COOLDOWN_SECONDS,
        keys_max_age: float = DEFAULT_KEYS_MAX_AGE_SECONDS,
        max_token_length: int = DEFAULT_MAX_TOKEN_LENGTH,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Configure the verifier and fetch the JWKS once (the init phase is the cheap place for it).

        A failed first fetch does not raise: the verifier fails closed (``keys_unavailable``) and
        tries again on a later call, at most once per `refetch_cooldown`.
        """
        clients = frozenset(client_ids)
        if not user_pool_id or not region or not clients or "" in clients:
            raise ValueError("user_pool_id, region and at least one client id are required")
        pool_region, separator, _ = user_pool_id.partition("_")
        if separator and pool_region != region:
            # Every token would fail with wrong_issuer: say so at init instead.
            raise ValueError(f"user pool {user_pool_id!r} is not in region {region!r}")
        if not 0 < fetch_timeout <= MAX_FETCH_TIMEOUT_SECONDS:
            raise ValueError(f"fetch_timeout must be in (0, {MAX_FETCH_TIMEOUT_SECONDS:g}] seconds")
        if leeway < 0 or refetch_cooldown < 0 or keys_max_age <= 0 or max_token_length <= 0:
            raise ValueError("leeway and refetch_cooldown must be >= 0; keys_max_age, max_token_length > 0")
        issuer = expected_issuer(region, user_pool_id)
        self.jwks_url = jwks_url or cognito_jwks_url(issuer)
        check_url(self.jwks_url)
        self.rules = ClaimRules(
            issuer=issuer, client_ids=clients, leeway=leeway, required_groups=frozenset(required_groups)
        )
        self._max_token_length = max_token_length
        self._checked_headers: dict[str, str] = {}  # header segment -> kid, see verify()
        self._clock = clock
        self.keys = JwksCache(
            self.jwks_url,
            fetch_timeout=fetch_timeout,
            refetch_cooldown=refetch_cooldown,
            max_age=keys_max_age,
            clock=clock,
        )
        self.keys.refresh()

    @classmethod
    def from_settings(cls, settings: VerifierSettings, **overrides: Any) -> CognitoIdTokenVerifier:
        """Build from parsed settings (`overrides` win, e.g. a test's clock)."""
        options: dict[str, Any] = {
            "user_pool_id": settings.user_pool_id,
            "client_ids": settings.client_ids,
            "region": settings.region,
            "jwks_url": settings.jwks_url,
            "leeway": settings.leeway,
            "required_groups": settings.required_groups,
        }
        return cls(**{**options, **overrides})

    @classmethod
    def from_environ(
        cls, environ: Mapping[str, str] | None = None, **overrides: Any
    ) -> CognitoIdTokenVerifier:
        """Build from the environment variables of docs/ARCHITECTURE.md (`overrides` win)."""
        return cls.from_settings(VerifierSettings.from_environ(environ), **overrides)

    def verify(self, token: object) -> VerifiedIdToken:
        """Verify `token` completely; raise :class:`TokenRejected` (with a :class:`Reason`) if it fails."""
        segments = compact.split(token, max_length=self._max_token_length)
        header = segments[1]
        # Every token of one kid carries the same header: reuse the result of checking it.
        kid = self._checked_headers.get(header) or compact.header_kid(header)
        signature = compact.signature_bytes(segments[3])
        key = self.keys.get(kid)
        if key.algorithm != compact.ALGORITHM:
            raise TokenRejected(Reason.WRONG_ALGORITHM, "the key of this kid is for another algorithm")
        signing_input = segments.string[: segments.end(2)].encode("ascii")
        if not key.signs(signing_input, signature):
            raise TokenRejected(Reason.BAD_SIGNATURE)
        if len(self._checked_headers) < _CHECKED_HEADERS_MAX:
            # Only headers that led to a valid signature get in, so made-up headers cannot fill it.
            self._checked_headers[header] = kid
        claims = compact.decode_json_object(segments[2], "payload")
        return check(claims, self.rules, self._clock())
