"""RSA keys, JWKS documents and Cognito-shaped ID tokens, minted in tests with real keys.

Typical use::

    key = generate_key("key-1")
    issuer = TokenIssuer(user_pool_id="ap-northeast-1_Test", client_ids=("client-a",), keys=(key,))
    token = issuer.id_token(sub="user-1", email="a@example.com")
    server.set_jwks(issuer.jwks())

``claims`` overrides replace a claim; ``None`` removes it. The ``*_token`` helpers at the bottom
build the attack shapes (``alg: none``, HS256 key confusion, a tampered payload, ...).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

DEFAULT_REGION = "ap-northeast-1"
DEFAULT_POOL_ID = f"{DEFAULT_REGION}_TestPool1"
DEFAULT_CLIENT_ID = "testclient0000000000000001"


def b64url(data: bytes) -> str:
    """base64url without padding, as JWS uses it."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_json(value: Any) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def b64url_decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _int_to_b64url(value: int) -> str:
    return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


@dataclass(frozen=True)
class SigningKey:
    """An RSA private key and the `kid` it is published under."""

    kid: str
    private_key: rsa.RSAPrivateKey = field(repr=False)

    def public_jwk(self, *, alg: str | None = "RS256", use: str | None = "sig") -> dict[str, str]:
        """The public half as a JWK, shaped like Cognito's (``alg`` and ``use`` may be dropped/changed)."""
        numbers = self.private_key.public_key().public_numbers()
        jwk = {"kty": "RSA", "kid": self.kid, "e": _int_to_b64url(numbers.e), "n": _int_to_b64url(numbers.n)}
        if alg is not None:
            jwk["alg"] = alg
        if use is not None:
            jwk["use"] = use
        return jwk

    def public_pem(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def sign(self, signing_input: bytes) -> bytes:
        """RS256: RSASSA-PKCS1-v1_5 with SHA-256."""
        return self.private_key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())


@cache
def _private_key(kid: str, size: int) -> rsa.RSAPrivateKey:
    # Cached per kid: RSA generation costs ~50 ms, and tests ask for the same few keys often.
    return rsa.generate_private_key(public_exponent=65537, key_size=size)


def generate_key(kid: str = "test-key-1", *, size: int = 2048) -> SigningKey:
    """An RSA key for `kid` (the same key for the same kid within a test session)."""
    return SigningKey(kid=kid, private_key=_private_key(kid, size))


def jwks(*keys: SigningKey) -> dict[str, list[dict[str, str]]]:
    """A JWKS document publishing the public half of each key."""
    return {"keys": [key.public_jwk() for key in keys]}


def expected_issuer(region: str, user_pool_id: str) -> str:
    return f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"


def encode(header: Mapping[str, Any], claims: Mapping[str, Any], key: SigningKey) -> str:
    """Sign `header`.`claims` with RS256 under `key`, whatever the header says."""
    signing_input = f"{b64url_json(dict(header))}.{b64url_json(dict(claims))}"
    return f"{signing_input}.{b64url(key.sign(signing_input.encode('ascii')))}"


def _apply(base: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    for name, value in overrides.items():
        if value is None:
            base.pop(name, None)
        else:
            base[name] = value
    return base


@dataclass(frozen=True)
class TokenIssuer:
    """Mints ID tokens the way a Cognito user pool does (issuer, audience, token_use, kid)."""

    user_pool_id: str = DEFAULT_POOL_ID
    client_ids: tuple[str, ...] = (DEFAULT_CLIENT_ID,)
    region: str = DEFAULT_REGION
    keys: tuple[SigningKey, ...] = field(default_factory=lambda: (generate_key(),))

    @property
    def issuer(self) -> str:
        return expected_issuer(self.region, self.user_pool_id)

    @property
    def key(self) -> SigningKey:
        """The key tokens are signed with unless told otherwise (the first)."""
        return self.keys[0]

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        return jwks(*self.keys)

    def claims(
        self,
        *,
        sub: str = "11111111-2222-3333-4444-555555555555",
        username: str = "alice",
        email: str | None = "alice@example.com",
        groups: Iterable[str] | None = None,
        lifetime: int = 3600,
        now: int | None = None,
        **overrides: Any,
    ) -> dict[str, Any]:
        """Valid ID-token claims; `overrides` replace any claim (``None`` removes it)."""
        issued = int(time.time()) if now is None else now
        claims: dict[str, Any] = {
            "sub": sub,
            "aud": self.client_ids[0],
            "email_verified": email is not None,
            "token_use": "id",
            "auth_time": issued,
            "iss": self.issuer,
            "cognito:username": username,
            "exp": issued + lifetime,
            "iat": issued,
            "jti": str(uuid.uuid4()),
            "origin_jti": str(uuid.uuid4()),
            "event_id": str(uuid.uuid4()),
        }
        if email is not None:
            claims["email"] = email
        if groups is not None:
            claims["cognito:groups"] = list(groups)
        return _apply(claims, overrides)

    def header(self, key: SigningKey | None = None, **overrides: Any) -> dict[str, Any]:
        """Cognito's header shape (``kid`` and ``alg``); `overrides` replace a field (``None`` removes it)."""
        return _apply({"kid": (key or self.key).kid, "alg": "RS256"}, overrides)

    def id_token(
        self,
        *,
        key: SigningKey | None = None,
        header: Mapping[str, Any] | None = None,
        **claims: Any,
    ) -> str:
        """A signed ID token. `claims` go to :meth:`claims`; `header` overrides header fields."""
        signing_key = key or self.key
        return encode(self.header(signing_key, **(header or {})), self.claims(**claims), signing_key)


# --- attack shapes -------------------------------------------------------------------------------


def unsigned_token(claims: Mapping[str, Any], *, kid: str | None = None) -> str:
    """``alg: none`` with an empty signature segment."""
    header: dict[str, Any] = {"alg": "none", "typ": "JWT"}
    if kid is not None:
        header["kid"] = kid
    return f"{b64url_json(header)}.{b64url_json(dict(claims))}."


def hs256_token(claims: Mapping[str, Any], secret: bytes, *, kid: str) -> str:
    """HS256 with `secret` as the HMAC key: pass a public key's PEM for the key-confusion attack."""
    signing_input = f"{b64url_json({'alg': 'HS256', 'typ': 'JWT', 'kid': kid})}.{b64url_json(dict(claims))}"
    mac = hmac.new(secret, signing_input.encode("ascii"), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(mac)}"


def tampered_token(token: str, **changes: Any) -> str:
    """The same header and signature around a payload with `changes` applied (``None`` removes)."""
    header, payload, signature = token.split(".")
    claims = _apply(json.loads(b64url_decode(payload)), changes)
    return f"{header}.{b64url_json(claims)}.{signature}"


def decode_unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims of a token, unverified: for tests that inspect what they minted."""
    header, payload, _ = token.split(".")
    return json.loads(b64url_decode(header)), json.loads(b64url_decode(payload))
