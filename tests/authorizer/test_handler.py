"""The authorizer handler end to end: the stored API Gateway event in, a policy (or 401/403/500) out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from tests.authorizer.events import METHOD_ARN, LambdaContext, connect_event
from tests.support.jwks_server import JwksServer
from tests.support.tokens import TokenIssuer, generate_key, tampered_token

LoadHandler = Callable[[dict[str, str]], ModuleType]


def environment(issuer: TokenIssuer, jwks_server: JwksServer, **extra: str) -> dict[str, str]:
    return {
        "USER_POOL_ID": issuer.user_pool_id,
        "USER_POOL_CLIENT_IDS": ",".join(issuer.client_ids),
        "COGNITO_REGION": issuer.region,
        "JWKS_URL": jwks_server.url,
        "TOKEN_LEEWAY_SECONDS": "5",
        "POWERTOOLS_SERVICE_NAME": "chat-authorizer",
        "POWERTOOLS_METRICS_NAMESPACE": "ChatTest",
        **extra,
    }


@pytest.fixture
def handler(load_handler: LoadHandler, issuer: TokenIssuer, jwks_server: JwksServer) -> ModuleType:
    return load_handler(environment(issuer, jwks_server))


def log_records(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def assert_unauthorized(handler: ModuleType, event: dict[str, object]) -> None:
    with pytest.raises(Exception) as raised:
        handler.lambda_handler(event, LambdaContext())
    assert type(raised.value) is Exception
    assert str(raised.value) == "Unauthorized"


def test_a_valid_token_gets_allow_on_exactly_the_method_arn(handler: ModuleType, issuer: TokenIssuer) -> None:
    token = issuer.id_token(sub="user-42", username="alice", email="alice@example.com", groups=["chatters"])
    _, claims = (
        token.split(".")[0],
        json.loads(__import__("base64").urlsafe_b64decode(token.split(".")[1] + "==")),
    )

    response = handler.lambda_handler(connect_event(token), LambdaContext())

    assert response == {
        "principalId": "user-42",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": METHOD_ARN}],
        },
        "context": {
            "userId": "user-42",
            "username": "alice",
            "email": "alice@example.com",
            "tokenExpiresAt": claims["exp"],
            "displayName": "alice",  # no preferred_username or name: the e-mail's local part
        },
    }
    assert all(
        isinstance(value, str | int) and not isinstance(value, bool) for value in response["context"].values()
    )


def test_email_is_left_out_of_the_context_when_the_token_has_none(
    handler: ModuleType, issuer: TokenIssuer
) -> None:
    response = handler.lambda_handler(connect_event(issuer.id_token(email=None)), LambdaContext())

    assert set(response["context"]) == {"userId", "username", "tokenExpiresAt", "displayName"}
    assert response["context"]["displayName"] == "alice"  # the username, as a last resort


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        ({"preferred_username": "Ali", "name": "Alice Liddell"}, "Ali"),
        ({"preferred_username": "  ", "name": "Alice Liddell"}, "Alice Liddell"),
        ({"email": "wonder.land@example.com"}, "wonder.land"),
        ({"name": "x" * 200}, "x" * 64),
    ],
)
def test_the_display_name_prefers_preferred_username_then_name_then_the_email_local_part(
    handler: ModuleType, issuer: TokenIssuer, claims: dict, expected: str
) -> None:
    response = handler.lambda_handler(
        connect_event(issuer.id_token(username="user-7", **claims)), LambdaContext()
    )

    assert response["context"]["displayName"] == expected


@pytest.mark.parametrize("event_shape", ["no query string", "no idToken", "empty idToken"])
def test_a_missing_token_gets_401(handler: ModuleType, event_shape: str) -> None:
    event = {
        "no query string": connect_event(with_query=False),
        "no idToken": connect_event(),
        "empty idToken": connect_event(""),
    }[event_shape]

    assert_unauthorized(handler, event)


def test_an_invalid_token_gets_401(handler: ModuleType, issuer: TokenIssuer) -> None:
    for token in (
        "garbage",
        issuer.id_token(now=0),  # expired in 1970
        issuer.id_token(key=generate_key("made-up")),
        tampered_token(issuer.id_token(), sub="admin"),
        issuer.id_token(token_use="access"),
    ):
        assert_unauthorized(handler, connect_event(token))


def test_every_rejection_is_logged_and_counted_with_its_reason_and_never_the_token(
    handler: ModuleType,
    issuer: TokenIssuer,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    expired = issuer.id_token(now=0)
    capsys.readouterr()

    assert_unauthorized(handler, connect_event(expired))

    output = capsys.readouterr()
    (record,) = log_records(output.out)
    assert record["level"] == "WARNING"
    assert record["reason"] == "expired"
    assert record["requestId"] == LambdaContext.aws_request_id
    assert record["TokenRejected"] == 1
    assert record["_aws"]["CloudWatchMetrics"] == [  # type: ignore[index]
        {
            "Namespace": "ChatTest",
            "Dimensions": [["service", "reason"]],
            "Metrics": [{"Name": "TokenRejected", "Unit": "Count"}],
        }
    ]
    assert record["service"] == "chat-authorizer"
    for secret in (expired, *expired.split(".")):
        assert secret not in output.out + output.err + caplog.text


def test_an_accepted_token_is_counted_and_logged_by_user_id_only(
    handler: ModuleType, issuer: TokenIssuer, capsys: pytest.CaptureFixture[str]
) -> None:
    token = issuer.id_token(sub="user-7")
    capsys.readouterr()

    handler.lambda_handler(connect_event(token), LambdaContext())

    output = capsys.readouterr().out
    (record,) = log_records(output)
    assert (record["message"], record["userId"], record["TokenAccepted"]) == ("token accepted", "user-7", 1)
    assert token.split(".")[1] not in output and token.split(".")[2] not in output


def test_a_user_outside_the_required_groups_gets_a_deny_403(
    load_handler: LoadHandler, issuer: TokenIssuer, jwks_server: JwksServer
) -> None:
    handler = load_handler(environment(issuer, jwks_server, REQUIRED_GROUPS="chatters, admins"))

    denied = handler.lambda_handler(connect_event(issuer.id_token(groups=["readers"])), LambdaContext())
    allowed = handler.lambda_handler(connect_event(issuer.id_token(groups=["admins"])), LambdaContext())

    assert denied["policyDocument"]["Statement"] == [
        {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": METHOD_ARN}
    ]
    assert "context" not in denied
    assert allowed["policyDocument"]["Statement"][0]["Effect"] == "Allow"


def test_jwks_down_at_cold_start_gives_500_not_allow_and_recovers(
    load_handler: LoadHandler, issuer: TokenIssuer, jwks_server: JwksServer
) -> None:
    jwks_server.go_down()
    handler = load_handler(environment(issuer, jwks_server))  # the module imports: Lambda init succeeds
    token = issuer.id_token()

    with pytest.raises(handler.KeysUnavailable):
        handler.lambda_handler(connect_event(token), LambdaContext())

    jwks_server.come_up()
    handler.VERIFIER.keys.refresh()  # what the next call after the cooldown does by itself
    assert (
        handler.lambda_handler(connect_event(token), LambdaContext())["principalId"] == issuer.claims()["sub"]
    )


def test_an_event_without_method_arn_fails_with_500_and_no_detail(
    handler: ModuleType, issuer: TokenIssuer, capsys: pytest.CaptureFixture[str]
) -> None:
    event = connect_event(issuer.id_token())
    del event["methodArn"]

    with pytest.raises(handler.AuthorizerFailed, match=r"^KeyError$"):
        handler.lambda_handler(event, LambdaContext())
    assert log_records(capsys.readouterr().out)[-1]["reason"] == "internal_error"


def test_a_misconfigured_environment_fails_the_import(
    load_handler: LoadHandler, jwks_server: JwksServer
) -> None:
    with pytest.raises(ValueError, match="client id"):
        load_handler(
            {"USER_POOL_ID": "ap-northeast-1_X", "USER_POOL_CLIENT_IDS": "", "JWKS_URL": jwks_server.url}
        )


def test_the_authorizer_imports_neither_boto3_nor_powertools(
    issuer: TokenIssuer, jwks_server: JwksServer
) -> None:
    # A fresh interpreter, as Lambda's init phase: what does importing the handler load?
    heavy = "{'boto3', 'botocore', 'aws_lambda_powertools'}"
    probe = f"import sys, handler; print(sorted({{m.split('.')[0] for m in sys.modules}} & {heavy}))"
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, **environment(issuer, jwks_server), "PYTHONPATH": str(root / "authorizer")}

    result = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == "[]"
    assert jwks_server.hits == 1  # and it fetched the JWKS during that import
