"""ID tokens issued by moto's Cognito (server mode, real HTTP, `initiate_auth`) through the real code."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

import pytest
from cognito_verifier import CognitoIdTokenVerifier, Reason, TokenRejected

from local_stack.moto_service import MotoServer
from tests.authorizer.events import METHOD_ARN, LambdaContext, connect_event
from tests.support.cognito import MotoUserPool, authenticate, create_user, create_user_pool, sign_in
from tests.support.tokens import decode_unverified

PASSWORD = "Corr3ct-Horse-Battery!"


@pytest.fixture(scope="module")
def pool(moto_server: MotoServer) -> MotoUserPool:
    return create_user_pool(moto_server.endpoint)


def verifier_for(pool: MotoUserPool, **overrides: object) -> CognitoIdTokenVerifier:
    settings: dict[str, object] = {
        "user_pool_id": pool.user_pool_id,
        "client_ids": [pool.client_id],
        "region": pool.region,
        "jwks_url": pool.jwks_url,  # moto serves it here, not under the issuer
    }
    settings.update(overrides)
    return CognitoIdTokenVerifier(**settings)  # type: ignore[arg-type]


def test_a_moto_issued_id_token_is_accepted(pool: MotoUserPool) -> None:
    sub = create_user(pool, "mallory-not", PASSWORD, email="m@example.com", groups=("chatters",))
    token = sign_in(pool, "mallory-not", PASSWORD)

    identity = verifier_for(pool, required_groups=("chatters",)).verify(token)

    assert (identity.sub, identity.username, identity.groups) == (sub, "mallory-not", ("chatters",))
    assert identity.expires_at == decode_unverified(token)[1]["exp"]


def test_the_authorizer_allows_a_moto_issued_token(
    pool: MotoUserPool, load_handler: Callable[[dict[str, str]], ModuleType]
) -> None:
    sub = create_user(pool, "bob", PASSWORD)
    handler = load_handler(
        {
            "USER_POOL_ID": pool.user_pool_id,
            "USER_POOL_CLIENT_IDS": f"some-other-client,{pool.client_id}",
            "COGNITO_REGION": pool.region,
            "JWKS_URL": pool.jwks_url,
        }
    )

    response = handler.lambda_handler(connect_event(sign_in(pool, "bob", PASSWORD)), LambdaContext())

    assert response["principalId"] == sub
    assert response["policyDocument"]["Statement"][0] == {
        "Action": "execute-api:Invoke",
        "Effect": "Allow",
        "Resource": METHOD_ARN,
    }
    assert response["context"]["username"] == "bob"


def test_a_moto_access_token_is_rejected(pool: MotoUserPool) -> None:
    create_user(pool, "carol", PASSWORD)
    access_token = authenticate(pool, "carol", PASSWORD)["AccessToken"]

    with pytest.raises(TokenRejected) as raised:
        verifier_for(pool).verify(access_token)
    assert raised.value.reason is Reason.WRONG_TOKEN_USE


def test_a_token_of_another_moto_pool_is_rejected_by_its_issuer(
    pool: MotoUserPool, moto_server: MotoServer
) -> None:
    # moto signs every pool's tokens with the same key and kid: only `iss` tells the pools apart.
    other = create_user_pool(moto_server.endpoint)
    create_user(other, "dave", PASSWORD)
    foreign = sign_in(other, "dave", PASSWORD)
    create_user(pool, "erin", PASSWORD)
    own = sign_in(pool, "erin", PASSWORD)
    assert decode_unverified(foreign)[0]["kid"] == decode_unverified(own)[0]["kid"]

    with pytest.raises(TokenRejected) as raised:
        verifier_for(pool, client_ids=[pool.client_id, other.client_id]).verify(foreign)
    assert raised.value.reason is Reason.WRONG_ISSUER
