"""A Cognito user pool on the moto server (real HTTP), with users who sign in for real ID tokens.

    pool = create_user_pool(moto_server.endpoint)                 # pool + SPA client
    create_user(pool, "alice", "Passw0rd!Passw0rd", email="alice@example.com", groups=("chatters",))
    token = sign_in(pool, "alice", "Passw0rd!Passw0rd")           # initiate_auth USER_PASSWORD_AUTH

moto 5.2.5 writes the AWS-style issuer (``https://cognito-idp.<region>.amazonaws.com/<poolId>``)
into its tokens, signs them with one RS256 key (``kid`` ``dummy``, the same in every pool), serves
that key at ``<endpoint>/<poolId>/.well-known/jwks.json``, and leaves ``email`` out of ID tokens.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import boto3

from tests.support.tokens import DEFAULT_REGION, expected_issuer


@dataclass(frozen=True)
class MotoUserPool:
    endpoint: str
    region: str
    user_pool_id: str
    client_id: str

    @property
    def issuer(self) -> str:
        """The `iss` moto writes into this pool's tokens."""
        return expected_issuer(self.region, self.user_pool_id)

    @property
    def jwks_url(self) -> str:
        """Where moto serves this pool's JWKS (not under the issuer's address)."""
        return f"{self.endpoint}/{self.user_pool_id}/.well-known/jwks.json"

    def client(self) -> Any:
        return cognito_client(self.endpoint, self.region)


def cognito_client(endpoint: str, region: str = DEFAULT_REGION) -> Any:
    return boto3.client("cognito-idp", endpoint_url=endpoint, region_name=region)


def create_user_pool(endpoint: str, *, region: str = DEFAULT_REGION, name: str | None = None) -> MotoUserPool:
    """A new user pool and an SPA app client (no secret, USER_PASSWORD_AUTH allowed)."""
    client = cognito_client(endpoint, region)
    pool_id = client.create_user_pool(
        PoolName=name or f"test-pool-{uuid.uuid4().hex[:8]}",
        AutoVerifiedAttributes=["email"],
    )["UserPool"]["Id"]
    client_id = client.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="spa",
        GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    return MotoUserPool(endpoint=endpoint, region=region, user_pool_id=pool_id, client_id=client_id)


def create_user(
    pool: MotoUserPool,
    username: str,
    password: str,
    *,
    email: str | None = None,
    groups: Iterable[str] = (),
) -> str:
    """A confirmed user with a permanent password (and group memberships); returns the user's `sub`."""
    client = pool.client()
    attributes = []
    if email:
        attributes = [{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}]
    user = client.admin_create_user(
        UserPoolId=pool.user_pool_id, Username=username, UserAttributes=attributes, MessageAction="SUPPRESS"
    )["User"]
    client.admin_set_user_password(
        UserPoolId=pool.user_pool_id, Username=username, Password=password, Permanent=True
    )
    for group in groups:
        with contextlib.suppress(client.exceptions.GroupExistsException):
            client.create_group(UserPoolId=pool.user_pool_id, GroupName=group)
        client.admin_add_user_to_group(UserPoolId=pool.user_pool_id, Username=username, GroupName=group)
    return next(a["Value"] for a in user["Attributes"] if a["Name"] == "sub")


def authenticate(pool: MotoUserPool, username: str, password: str) -> dict[str, Any]:
    """``initiate_auth`` with USER_PASSWORD_AUTH: the AuthenticationResult (IdToken, AccessToken, ...)."""
    result = pool.client().initiate_auth(
        ClientId=pool.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password},
    )
    return dict(result["AuthenticationResult"])


def sign_in(pool: MotoUserPool, username: str, password: str) -> str:
    """The user's ID token."""
    return str(authenticate(pool, username, password)["IdToken"])
