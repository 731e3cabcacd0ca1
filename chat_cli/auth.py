"""Sign in to the stack's Cognito user pool (the local one or a deployed one) for an ID token."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore import UNSIGNED
from botocore.config import Config


class SignInError(RuntimeError):
    pass


@dataclass
class Tokens:
    id_token: str
    refresh_token: str | None


def load_outputs(path: Path) -> dict[str, str]:
    """The outputs of the local stack (`.local/outputs.json`) or of a deployment (`outputs/<env>.json`)."""
    try:
        outputs = json.loads(path.read_text())
    except FileNotFoundError:
        raise SignInError(f"{path} does not exist: run `make local` (or `make deploy`) first") from None
    missing = {"Region", "UserPoolClientId", "WebSocketUrl"} - set(outputs)
    if missing:
        raise SignInError(f"{path} lacks {', '.join(sorted(missing))}")
    return outputs


def _cognito(outputs: dict[str, str]) -> Any:
    # Sign-in calls are unauthenticated: no AWS credentials are needed, locally or against AWS.
    return boto3.client(
        "cognito-idp",
        region_name=outputs["Region"],
        endpoint_url=outputs.get("CognitoEndpoint"),
        config=Config(signature_version=UNSIGNED),
    )


def sign_in(outputs: dict[str, str], username: str, password: str) -> Tokens:
    cognito = _cognito(outputs)
    try:
        result = cognito.initiate_auth(
            ClientId=outputs["UserPoolClientId"],
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password},
        )
    except cognito.exceptions.NotAuthorizedException as error:
        raise SignInError(
            f"sign-in refused: {error.response['Error'].get('Message', 'not authorized')}"
        ) from None
    except cognito.exceptions.UserNotFoundException:
        raise SignInError(f"no user {username!r} in this pool") from None
    tokens = result.get("AuthenticationResult")
    if tokens is None:
        raise SignInError(
            f"sign-in needs a challenge this client does not handle: {result.get('ChallengeName')}"
        )
    return Tokens(tokens["IdToken"], tokens.get("RefreshToken"))


def refresh(outputs: dict[str, str], refresh_token: str) -> str:
    """A fresh ID token from the refresh token (for `reauth` when the current one expires)."""
    result = _cognito(outputs).initiate_auth(
        ClientId=outputs["UserPoolClientId"],
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": refresh_token},
    )
    return str(result["AuthenticationResult"]["IdToken"])
