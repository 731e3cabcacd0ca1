"""The JWKS cache: keys by kid, fetched at init, refetched at most once per cooldown window.

The "penalty box": a miss (an unknown kid, or no keys at all) may trigger one fetch; any miss within
``refetch_cooldown`` seconds of the last fetch attempt fails at once without touching the network,
so a flood of made-up kids cannot become a flood of fetches. A failed fetch keeps the keys already
held. Keys older than ``max_age`` are refreshed on the next lookup (same cooldown), so a key that
Cognito withdraws stops being accepted without waiting for a new container.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.hashes import SHA256
from jwt import PyJWK
from jwt.exceptions import PyJWTError

from cognito_verifier.fetch import FetchError, fetch_json
from cognito_verifier.reasons import Reason, TokenRejected

MIN_RSA_BITS = 2048
_PADDING = PKCS1v15()
_SHA256 = SHA256()

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class VerificationKey:
    """A public key and the algorithm its JWK declares (RS256 when it declares none)."""

    public_key: Any  # cryptography's RSAPublicKey
    algorithm: str

    def signs(self, signing_input: bytes, signature: bytes) -> bool:
        """Whether `signature` is this key's RS256 (RSASSA-PKCS1-v1_5, SHA-256) over `signing_input`.

        OpenSSL checks the length, the padding and the exact SHA-256 DigestInfo.
        """
        try:
            self.public_key.verify(signature, signing_input, _PADDING, _SHA256)
        except InvalidSignature:
            return False
        return True


def parse_jwks(document: Any) -> dict[str, VerificationKey]:
    """The usable signing keys of a JWKS document: RSA, ``use`` sig (or absent), ≥ 2048 bits."""
    if not isinstance(document, Mapping) or not isinstance(document.get("keys"), list):
        raise FetchError("not a JWKS document (no 'keys' list)")
    keys: dict[str, VerificationKey] = {}
    for jwk in document["keys"]:
        if not isinstance(jwk, Mapping) or jwk.get("kty") != "RSA" or jwk.get("use", "sig") != "sig":
            continue
        kid = jwk.get("kid")
        if not isinstance(kid, str) or not kid:
            continue
        try:
            parsed = PyJWK(dict(jwk))
        except (PyJWTError, ValueError, TypeError) as error:
            logger.warning("ignoring an unusable JWK (kid %r): %s", kid, error)
            continue
        if getattr(parsed.key, "key_size", 0) < MIN_RSA_BITS:
            logger.warning("ignoring JWK %r: RSA key shorter than %d bits", kid, MIN_RSA_BITS)
            continue
        keys[kid] = VerificationKey(public_key=parsed.key, algorithm=parsed.algorithm_name)
    return keys


class JwksCache:
    """Keys by kid from one JWKS URL; see the module docstring for the refetch rules."""

    def __init__(
        self,
        url: str,
        *,
        fetch_timeout: float,
        refetch_cooldown: float,
        max_age: float,
        clock: Callable[[], float],
    ) -> None:
        self._url = url
        self._fetch_timeout = fetch_timeout
        self._cooldown = refetch_cooldown
        self._max_age = max_age
        self._clock = clock
        self._keys: dict[str, VerificationKey] = {}
        self._fetched_at: float | None = None  # last successful fetch
        self._attempted_at: float | None = None  # last fetch attempt, successful or not
        self._lock = threading.Lock()

    @property
    def kids(self) -> frozenset[str]:
        return frozenset(self._keys)

    def refresh(self) -> bool:
        """Fetch the JWKS now (ignoring the cooldown); keep the current keys if that fails."""
        with self._lock:
            return self._refresh_locked()

    def get(self, kid: str) -> VerificationKey:
        """The key for `kid`, refetching once per cooldown window when it is unknown or stale."""
        key = self._keys.get(kid)
        if key is not None and not self._stale():
            return key
        with self._lock:
            key = self._keys.get(kid)
            if key is None or self._stale():
                if self._may_fetch():
                    self._refresh_locked()
                key = self._keys.get(kid)
        if key is not None:
            return key
        if not self._keys:
            raise TokenRejected(Reason.KEYS_UNAVAILABLE, "no JWKS fetched yet")
        raise TokenRejected(Reason.UNKNOWN_KEY, "no key with this kid")

    def _stale(self) -> bool:
        return self._fetched_at is not None and self._clock() - self._fetched_at >= self._max_age

    def _may_fetch(self) -> bool:
        if self._attempted_at is None:
            return True
        elapsed = self._clock() - self._attempted_at
        return elapsed >= self._cooldown or elapsed < 0  # a clock that went back ends the window

    def _refresh_locked(self) -> bool:
        self._attempted_at = self._clock()
        try:
            keys = parse_jwks(fetch_json(self._url, timeout=self._fetch_timeout))
        except FetchError as error:
            logger.warning("JWKS fetch failed, keeping %d cached key(s): %s", len(self._keys), error)
            return False
        if not keys:
            logger.warning("JWKS holds no usable RS256 key, keeping %d cached key(s)", len(self._keys))
            return False
        self._keys = keys
        self._fetched_at = self._clock()
        return True
