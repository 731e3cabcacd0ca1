"""Configuration: the environment variables of docs/ARCHITECTURE.md, and settings refused at init."""

from __future__ import annotations

import pytest
from cognito_verifier import CognitoIdTokenVerifier
from cognito_verifier.verifier import cognito_jwks_url, expected_issuer

from tests.authorizer.conftest import SECOND_CLIENT_ID, VerifierFactory
from tests.support.jwks_server import JwksServer
from tests.support.tokens import TokenIssuer


def test_from_environ_reads_every_variable(issuer: TokenIssuer, jwks_server: JwksServer) -> None:
    environ = {
        "USER_POOL_ID": issuer.user_pool_id,
        "USER_POOL_CLIENT_IDS": f" {issuer.client_ids[0]} , {SECOND_CLIENT_ID},",
        "COGNITO_REGION": issuer.region,
        "JWKS_URL": jwks_server.url,
        "TOKEN_LEEWAY_SECONDS": "30",
        "REQUIRED_GROUPS": "chatters, admins",
    }

    verifier = CognitoIdTokenVerifier.from_environ(environ)

    assert verifier.jwks_url == jwks_server.url
    assert verifier.rules.issuer == issuer.issuer
    assert verifier.rules.client_ids == {issuer.client_ids[0], SECOND_CLIENT_ID}
    assert verifier.rules.leeway == 30
    assert verifier.rules.required_groups == {"chatters", "admins"}
    assert jwks_server.hits == 1
    assert verifier.verify(issuer.id_token(aud=SECOND_CLIENT_ID, groups=["admins"])).username == "alice"


def test_the_region_falls_back_to_aws_region(issuer: TokenIssuer, jwks_server: JwksServer) -> None:
    environ = {
        "USER_POOL_ID": issuer.user_pool_id,
        "USER_POOL_CLIENT_IDS": issuer.client_ids[0],
        "AWS_REGION": issuer.region,
        "JWKS_URL": jwks_server.url,
    }

    verifier = CognitoIdTokenVerifier.from_environ(environ)

    assert verifier.rules.issuer == issuer.issuer
    assert verifier.rules.required_groups == frozenset()


def test_without_jwks_url_the_keys_come_from_cognitos_address() -> None:
    issuer = expected_issuer("eu-west-1", "eu-west-1_AbCdEf123")

    assert issuer == "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123"
    assert cognito_jwks_url(issuer) == f"{issuer}/.well-known/jwks.json"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"client_ids": ()}, "client id"),
        ({"client_ids": ("",)}, "client id"),
        ({"user_pool_id": ""}, "user_pool_id"),
        ({"user_pool_id": "eu-west-1_TestPool1"}, "not in region"),
        ({"jwks_url": "file:///etc/passwd"}, "http"),
        ({"jwks_url": "not a url"}, "http"),
        ({"fetch_timeout": 0}, "fetch_timeout"),
        ({"fetch_timeout": 3.5}, "fetch_timeout"),
        ({"fetch_timeout": 30}, "fetch_timeout"),
        ({"leeway": -1}, "leeway"),
    ],
)
def test_settings_that_cannot_work_are_refused_at_init(
    make_verifier: VerifierFactory, overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        make_verifier(**overrides)
