"""Every attack of the issue, each rejected with its own reason, against real keys and a real JWKS."""

from __future__ import annotations

import base64
import json

import pytest
from cognito_verifier import CognitoIdTokenVerifier, Reason, TokenRejected
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from tests.authorizer.conftest import SECOND_CLIENT_ID, Clock, VerifierFactory
from tests.support.jwks_server import JwksServer
from tests.support.tokens import (
    SigningKey,
    TokenIssuer,
    b64url,
    b64url_json,
    generate_key,
    hs256_token,
    tampered_token,
    unsigned_token,
)

NOT_UTF8_HEADER = b64url(b'{"alg":"RS256","kid":"\xff"}')


def rejection(verifier: CognitoIdTokenVerifier, token: object) -> Reason:
    with pytest.raises(TokenRejected) as raised:
        verifier.verify(token)
    assert str(token) not in str(raised.value) or token in (None, "")  # the message never quotes it
    return raised.value.reason


def test_a_valid_token_is_accepted(verifier: CognitoIdTokenVerifier, issuer: TokenIssuer) -> None:
    token = issuer.id_token(sub="user-1", username="alice", email="alice@example.com", groups=["a"])

    identity = verifier.verify(token)

    assert (identity.sub, identity.username, identity.email, identity.groups) == (
        "user-1",
        "alice",
        "alice@example.com",
        ("a",),
    )
    assert identity.expires_at == json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))["exp"]


def test_tokens_of_every_configured_client_are_accepted(
    verifier: CognitoIdTokenVerifier, issuer: TokenIssuer
) -> None:
    for client_id in issuer.client_ids:
        assert verifier.verify(issuer.id_token(aud=client_id, sub=client_id)).sub == client_id


def test_a_token_signed_by_the_second_published_key_is_accepted(
    verifier: CognitoIdTokenVerifier, issuer: TokenIssuer
) -> None:
    assert verifier.verify(issuer.id_token(key=issuer.keys[1])).username == "alice"


def test_email_is_none_when_the_token_has_none(verifier: CognitoIdTokenVerifier, issuer: TokenIssuer) -> None:
    assert verifier.verify(issuer.id_token(email=None)).email is None


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (None, Reason.MISSING),
        ("", Reason.MISSING),
        (b"a.b.c", Reason.MALFORMED),
        (12345, Reason.MALFORMED),
        ("garbage", Reason.MALFORMED),
        ("not a token at all, just words", Reason.MALFORMED),
        ("aaaa.bbbb", Reason.MALFORMED),
        ("aaaa.bbbb.cccc.dddd", Reason.MALFORMED),
        ("aaaa..cccc", Reason.MALFORMED),
        ("aaaa=.bbbb.cccc", Reason.MALFORMED),  # padding is not base64url-in-JWS
        ("aa+a.bbbb.cccc", Reason.MALFORMED),  # the standard alphabet is not base64url
        ("a.bbbb.cccc", Reason.MALFORMED),  # one character is never a base64 length
        (f"{b64url(b'not json')}.bbbb.cccc", Reason.MALFORMED),
        (f"{b64url_json(['a', 'list'])}.bbbb.cccc", Reason.MALFORMED),
        (f"{NOT_UTF8_HEADER}.bbbb.cccc", Reason.MALFORMED),
        (" " + "a" * 20 + ".b.c", Reason.MALFORMED),
    ],
)
def test_shapeless_tokens_are_rejected_before_any_key_is_used(
    verifier: CognitoIdTokenVerifier, jwks_server: JwksServer, token: object, reason: Reason
) -> None:
    hits = jwks_server.hits

    assert rejection(verifier, token) is reason
    assert jwks_server.hits == hits


def test_oversize_token_is_rejected_before_parsing(
    verifier: CognitoIdTokenVerifier, issuer: TokenIssuer
) -> None:
    padded = issuer.id_token(padding="x" * 9000)

    assert rejection(verifier, padded) is Reason.TOO_LARGE
    assert rejection(verifier, "!" * 10_000) is Reason.TOO_LARGE  # the cap comes before the shape check


def test_the_size_cap_is_configurable(make_verifier: VerifierFactory, issuer: TokenIssuer) -> None:
    token = issuer.id_token()

    assert rejection(make_verifier(max_token_length=len(token) - 1), token) is Reason.TOO_LARGE
    assert make_verifier(max_token_length=len(token)).verify(token).username == "alice"


def test_alg_none_is_rejected(verifier: CognitoIdTokenVerifier, issuer: TokenIssuer) -> None:
    claims = issuer.claims()

    assert rejection(verifier, unsigned_token(claims, kid=issuer.key.kid)) is Reason.WRONG_ALGORITHM
    # the same with a non-empty "signature" segment
    assert rejection(verifier, unsigned_token(claims, kid=issuer.key.kid) + "AAAA") is Reason.WRONG_ALGORITHM


def test_hs256_signed_with_the_public_key_is_rejected(
    verifier: CognitoIdTokenVerifier, issuer: TokenIssuer
) -> None:
    # Key confusion: a verifier that took `alg` from the token would check this HMAC with the PEM.
    for secret in (issuer.key.public_pem(), json.dumps(issuer.key.public_jwk()).encode()):
        token = hs256_token(issuer.claims(), secret, kid=issuer.key.kid)
        assert rejection(verifier, token) is Reason.WRONG_ALGORITHM


@pytest.mark.parametrize("alg", ["HS256", "RS384", "RS512", "PS256", "ES256", "rs256", "RS256 ", "EdDSA"])
def test_any_alg_but_rs256_is_rejected(
    verifier: CognitoIdTokenVerifier, issuer: TokenIssuer, alg: str
) -> None:
    assert rejection(verifier, issuer.id_token(header={"alg": alg})) is Reason.WRONG_ALGORITHM


def test_a_missing_alg_is_rejected(verifier: CognitoIdTokenVerifier, issuer: TokenIssuer) -> None:
    assert rejection(verifier, issuer.id_token(header={"alg": None})) is Reason.WRONG_ALGORITHM


def test_rs256_token_under_a_kid_whose_jwk_declares_another_alg_is_rejected(
    make_verifier: VerifierFactory, issuer: TokenIssuer, jwks_server: JwksServer
) -> None:
    jwks_server.set_jwks({"keys": [issuer.key.public_jwk(alg="RS512")]})

    assert rejection(make_verifier(), issuer.id_token()) is Reason.WRONG_ALGORITHM


def test_critical_header_extensions_are_rejected(
    verifier: CognitoIdTokenVerifier, issuer: TokenIssuer
) -> None:
    assert rejection(verifier, issuer.id_token(header={"crit": ["exp"], "exp": 1})) is Reason.MALFORMED


def test_rs256_signed_by_another_key_under_a_known_kid_is_rejected(
    verifier: CognitoIdTokenVerifier, issuer: TokenIssuer
) -> None:
    impostor = SigningKey(kid=issuer.key.kid, private_key=generate_key("impostor").private_key)

    assert rejection(verifier, issuer.id_token(key=impostor)) is Reason.BAD_SIGNATURE


def test_a_token_signed_by_the_other_published_key_under_this_kid_is_rejected(
    verifier: CognitoIdTokenVerifier, issuer: TokenIssuer
) -> None:
    swapped = SigningKey(kid=issuer.keys[0].kid, private_key=issuer.keys[1].private_key)

    assert rejection(verifier, issuer.id_token(key=swapped)) is Reason.BAD_SIGNATURE


@pytest.mark.parametrize(
    "changes",
    [
        {"sub": "someone-else"},
        {"cognito:username": "admin"},
        {"exp": 4102444800},
        {"cognito:groups": ["admins"]},
        {"email": None},
    ],
)
def test_a_tampered_payload_with_the_original_signature_is_rejected(
    verifier: CognitoIdTokenVerifier, issuer: TokenIssuer, changes: dict[str, object]
) -> None:
    assert rejection(verifier, tampered_token(issuer.id_token(), **changes)) is Reason.BAD_SIGNATURE


def test_a_tampered_header_with_the_original_signature_is_rejected(
    verifier: CognitoIdTokenVerifier, issuer: TokenIssuer
) -> None:
    _, payload, signature = issuer.id_token().split(".")
    header = b64url_json({"alg": "RS256", "kid": issuer.key.kid, "typ": "JWT"})

    assert rejection(verifier, f"{header}.{payload}.{signature}") is Reason.BAD_SIGNATURE


def test_signature_bit_flips_and_truncations_are_rejected(
    verifier: CognitoIdTokenVerifier, issuer: TokenIssuer
) -> None:
    header, payload, signature = issuer.id_token().split(".")
    flipped = ("B" if signature[0] != "B" else "C") + signature[1:]

    assert rejection(verifier, f"{header}.{payload}.{flipped}") is Reason.BAD_SIGNATURE
    assert rejection(verifier, f"{header}.{payload}.{signature[:-2]}") is Reason.BAD_SIGNATURE
    assert rejection(verifier, f"{header}.{payload}.") is Reason.BAD_SIGNATURE


@pytest.mark.parametrize("hash_algorithm", [hashes.SHA1(), hashes.SHA384(), hashes.SHA512()])
def test_a_pkcs1_signature_over_another_hash_is_rejected(
    verifier: CognitoIdTokenVerifier, issuer: TokenIssuer, hash_algorithm: hashes.HashAlgorithm
) -> None:
    # Right key, right padding, right length: only the DigestInfo says it is not SHA-256.
    header, payload, _ = issuer.id_token().split(".")
    signature = issuer.key.private_key.sign(
        f"{header}.{payload}".encode(), padding.PKCS1v15(), hash_algorithm
    )

    assert rejection(verifier, f"{header}.{payload}.{b64url(signature)}") is Reason.BAD_SIGNATURE


def test_a_pss_signature_is_rejected(verifier: CognitoIdTokenVerifier, issuer: TokenIssuer) -> None:
    header, payload, _ = issuer.id_token().split(".")
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    signature = issuer.key.private_key.sign(f"{header}.{payload}".encode(), pss, hashes.SHA256())

    assert rejection(verifier, f"{header}.{payload}.{b64url(signature)}") is Reason.BAD_SIGNATURE


def test_a_non_canonical_spelling_of_the_signature_is_rejected(
    verifier: CognitoIdTokenVerifier, issuer: TokenIssuer
) -> None:
    # 256 signature bytes -> 342 characters; the last one carries 2 unused bits. Setting them gives
    # another string that decodes to the same bytes: a second "valid" token for free, unless refused.
    header, payload, signature = issuer.id_token().split(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    twin = signature[:-1] + alphabet[alphabet.index(signature[-1]) | 1]
    assert base64.urlsafe_b64decode(twin + "==") == base64.urlsafe_b64decode(signature + "==")

    assert rejection(verifier, f"{header}.{payload}.{twin}") is Reason.MALFORMED


@pytest.mark.parametrize(
    "kid",
    [
        "../../etc/passwd",
        "key-a/../key-b",
        "https://evil.example/jwks.json",
        "key-a\n",
        "key\x00a",
        "k" * 129,
        "",
    ],
)
def test_a_kid_with_path_or_control_characters_is_rejected_without_a_fetch(
    verifier: CognitoIdTokenVerifier, issuer: TokenIssuer, jwks_server: JwksServer, kid: str
) -> None:
    hits = jwks_server.hits

    assert rejection(verifier, issuer.id_token(header={"kid": kid})) is Reason.MALFORMED
    assert jwks_server.hits == hits


@pytest.mark.parametrize("kid", [None, 7, ["key-a"], {"kid": "key-a"}])
def test_a_kid_that_is_missing_or_not_a_string_is_rejected(
    verifier: CognitoIdTokenVerifier, issuer: TokenIssuer, kid: object
) -> None:
    assert rejection(verifier, issuer.id_token(header={"kid": kid})) is Reason.MALFORMED


def test_an_unknown_kid_is_rejected(verifier: CognitoIdTokenVerifier, issuer: TokenIssuer) -> None:
    stranger = generate_key("made-up-kid")

    assert rejection(verifier, issuer.id_token(key=stranger)) is Reason.UNKNOWN_KEY


def test_an_expired_token_is_rejected(
    verifier: CognitoIdTokenVerifier, issuer: TokenIssuer, clock: Clock
) -> None:
    token = issuer.id_token(now=int(clock.now) - 7200, lifetime=3600)

    assert rejection(verifier, token) is Reason.EXPIRED


def test_expiry_allows_the_configured_leeway_and_not_a_second_more(
    verifier: CognitoIdTokenVerifier, issuer: TokenIssuer, clock: Clock
) -> None:
    token = issuer.id_token(now=int(clock.now) - 100, lifetime=100)  # exp == now; leeway 5 s

    clock.advance(4)
    assert verifier.verify(token).expires_at == int(clock.now) - 4
    clock.advance(1)
    assert rejection(verifier, token) is Reason.EXPIRED


def test_nbf_in_the_future_is_rejected(
    verifier: CognitoIdTokenVerifier, issuer: TokenIssuer, clock: Clock
) -> None:
    assert rejection(verifier, issuer.id_token(nbf=int(clock.now) + 60)) is Reason.NOT_YET_VALID
    assert verifier.verify(issuer.id_token(nbf=int(clock.now) + 4)).username == "alice"  # within leeway


def test_iat_in_the_future_is_rejected(
    verifier: CognitoIdTokenVerifier, issuer: TokenIssuer, clock: Clock
) -> None:
    assert rejection(verifier, issuer.id_token(now=int(clock.now) + 600)) is Reason.NOT_YET_VALID


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": None},
        {"exp": "1999999999"},
        {"exp": True},
        {"iat": None},
        {"nbf": "soon"},
        {"sub": None},
        {"sub": ""},
        {"sub": 42},
        {"cognito:username": None},
        {"cognito:groups": "admins"},
        {"cognito:groups": [1, 2]},
    ],
)
def test_claims_of_the_wrong_type_or_missing_are_rejected(
    verifier: CognitoIdTokenVerifier, issuer: TokenIssuer, claims: dict[str, object]
) -> None:
    assert rejection(verifier, issuer.id_token(**claims)) is Reason.MALFORMED


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_json_that_is_not_rfc_8259_is_rejected(
    verifier: CognitoIdTokenVerifier, issuer: TokenIssuer, literal: str
) -> None:
    # Signed by the right key, so only the payload's JSON dialect is wrong.
    header = b64url_json({"alg": "RS256", "kid": issuer.key.kid})
    claims = json.dumps(issuer.claims()).replace('"email_verified": true', f'"email_verified": {literal}')
    signing_input = f"{header}.{b64url(claims.encode())}"
    token = f"{signing_input}.{b64url(issuer.key.sign(signing_input.encode()))}"

    assert literal in claims
    assert rejection(verifier, token) is Reason.MALFORMED


def test_iat_after_exp_is_rejected(
    verifier: CognitoIdTokenVerifier, issuer: TokenIssuer, clock: Clock
) -> None:
    token = issuer.id_token(exp=int(clock.now) + 1, iat=int(clock.now) + 3)  # both within leeway

    assert rejection(verifier, token) is Reason.MALFORMED


def test_a_signed_payload_that_is_not_an_object_is_rejected(
    verifier: CognitoIdTokenVerifier, issuer: TokenIssuer
) -> None:
    header = b64url_json({"alg": "RS256", "kid": issuer.key.kid})
    signing_input = f"{header}.{b64url_json(['not', 'an', 'object'])}"
    token = f"{signing_input}.{b64url(issuer.key.sign(signing_input.encode()))}"

    assert rejection(verifier, token) is Reason.MALFORMED


@pytest.mark.parametrize(
    "iss",
    [
        "https://evil.example.com",
        "https://cognito-idp.us-east-1.amazonaws.com/ap-northeast-1_TestPool1",  # another region
        "https://cognito-idp.ap-northeast-1.amazonaws.com/ap-northeast-1_TestPool1/",  # trailing slash
        "http://cognito-idp.ap-northeast-1.amazonaws.com/ap-northeast-1_TestPool1",  # http
        None,
    ],
)
def test_a_wrong_issuer_is_rejected(
    verifier: CognitoIdTokenVerifier, issuer: TokenIssuer, iss: str | None
) -> None:
    assert rejection(verifier, issuer.id_token(iss=iss)) is Reason.WRONG_ISSUER


def test_the_issuer_of_another_pool_is_rejected(
    verifier: CognitoIdTokenVerifier, issuer: TokenIssuer
) -> None:
    # Another pool of the same account, region and key material: only `iss` tells them apart.
    other_pool = TokenIssuer(
        user_pool_id="ap-northeast-1_OtherPool", client_ids=issuer.client_ids, keys=issuer.keys
    )

    assert rejection(verifier, other_pool.id_token()) is Reason.WRONG_ISSUER


@pytest.mark.parametrize("aud", ["another-client", SECOND_CLIENT_ID + "x", [SECOND_CLIENT_ID], None, ""])
def test_a_wrong_audience_is_rejected(
    verifier: CognitoIdTokenVerifier, issuer: TokenIssuer, aud: object
) -> None:
    assert rejection(verifier, issuer.id_token(aud=aud)) is Reason.WRONG_AUDIENCE


def test_an_access_token_is_rejected(verifier: CognitoIdTokenVerifier, issuer: TokenIssuer) -> None:
    # Cognito's access tokens carry client_id instead of aud; one carrying a valid aud still fails.
    access = issuer.id_token(token_use="access", client_id=issuer.client_ids[0])

    assert rejection(verifier, access) is Reason.WRONG_TOKEN_USE
    assert rejection(verifier, issuer.id_token(token_use=None)) is Reason.WRONG_TOKEN_USE


def test_required_groups_admit_a_member_of_any_of_them(
    make_verifier: VerifierFactory, issuer: TokenIssuer
) -> None:
    verifier = make_verifier(required_groups=("chatters", "admins"))

    assert verifier.verify(issuer.id_token(groups=["admins"])).groups == ("admins",)
    assert rejection(verifier, issuer.id_token(groups=["readers"])) is Reason.MISSING_GROUP
    assert rejection(verifier, issuer.id_token(groups=None)) is Reason.MISSING_GROUP
