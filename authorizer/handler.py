"""The WebSocket API's `$connect` REQUEST authorizer: a Cognito ID token in, an IAM policy out.

| case                                                  | answer                     | client sees |
|-------------------------------------------------------|----------------------------|-------------|
| valid token                                           | Allow on `methodArn`       | connected   |
| no `idToken`, or a token that fails any check         | raise `Unauthorized`       | 401         |
| valid token, but in none of the REQUIRED_GROUPS       | Deny on `methodArn`        | 403         |
| the JWKS could not be fetched yet (keys_unavailable)  | raise `KeysUnavailable`    | 500         |
| an unexpected error (e.g. an event without methodArn) | raise `AuthorizerFailed`   | 500         |

The verifier is built at import (the container's init phase), which also fetches the JWKS.
"""

from __future__ import annotations

from typing import Any

import telemetry
from cognito_verifier import CognitoIdTokenVerifier, Reason, TokenRejected, VerifiedIdToken

VERIFIER = CognitoIdTokenVerifier.from_environ()

UNAUTHORIZED = "Unauthorized"  # API Gateway turns exactly this error message into a 401


class AuthorizerFailed(Exception):
    """An unexpected failure (a 500); the message is the original error's type name only."""


class KeysUnavailable(Exception):
    """The JWKS could not be fetched: the service, not the caller, is at fault (a 500, retryable)."""


def _id_token(event: dict[str, Any]) -> object:
    parameters = event.get("queryStringParameters") or {}
    return parameters.get("idToken") if isinstance(parameters, dict) else None


def _policy(principal_id: str, effect: str, method_arn: str) -> dict[str, Any]:
    return {
        "principalId": principal_id,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": method_arn}],
        },
    }


def _context(identity: VerifiedIdToken) -> dict[str, str | int]:
    context: dict[str, str | int] = {
        "userId": identity.sub,
        "username": identity.username,
        "tokenExpiresAt": identity.expires_at,
        "displayName": identity.display_name,
    }
    if identity.email is not None:
        context["email"] = identity.email
    return context


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request_id = getattr(context, "aws_request_id", None)
    try:
        method_arn = event["methodArn"]
        if not isinstance(method_arn, str) or not method_arn:
            raise TypeError("methodArn is not a non-empty string")
        identity = VERIFIER.verify(_id_token(event))
    except TokenRejected as rejected:
        telemetry.token_rejected(rejected.reason, request_id=request_id)
        if rejected.reason is Reason.MISSING_GROUP:
            return _policy("unauthorized", "Deny", method_arn)
        if rejected.reason is Reason.KEYS_UNAVAILABLE:
            raise KeysUnavailable("the user pool's signing keys are not available yet") from None
        raise Exception(UNAUTHORIZED) from None  # API Gateway matches this exact message
    except Exception as error:
        # Re-raised without its message or chain: Lambda logs an escaping error, and the original
        # message could quote the input.
        telemetry.authorizer_error(error, request_id=request_id)
        raise AuthorizerFailed(type(error).__name__) from None
    telemetry.token_accepted(identity.sub, request_id=request_id)
    return {**_policy(identity.sub, "Allow", method_arn), "context": _context(identity)}
