"""Property: whatever arrives as `idToken`, the handler answers 401 with a logged reason, never Allow,
and never lets another exception escape."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
from cognito_verifier import Reason
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.authorizer.events import LambdaContext, connect_event
from tests.support.jwks_server import JwksServer
from tests.support.tokens import TokenIssuer, b64url, b64url_json

ROOT = Path(__file__).resolve().parents[2]
REASONS = {reason.value for reason in Reason}
# Hypothesis also draws strings from the code under test's own constants (a log message, a metric
# name): one of those in the output is the code's text, not the token leaking.
CONSTANTS = "\n".join(
    path.read_text() for root in ("authorizer", "metric_names") for path in (ROOT / root).rglob("*.py")
)
B64URL = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", max_size=400)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
HEADERS = st.fixed_dictionaries(
    {},
    optional={
        "alg": st.sampled_from(["RS256", "none", "HS256", "RS512"]) | st.text(max_size=8),
        "kid": st.sampled_from(["key-a", "key-b"]) | st.text(max_size=20) | JSON_VALUES,
        "typ": st.just("JWT"),
        "crit": JSON_VALUES,
    },
)
SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture
def handler(
    load_handler: Callable[[dict[str, str]], ModuleType], issuer: TokenIssuer, jwks_server: JwksServer
) -> ModuleType:
    return load_handler(
        {
            "USER_POOL_ID": issuer.user_pool_id,
            "USER_POOL_CLIENT_IDS": ",".join(issuer.client_ids),
            "COGNITO_REGION": issuer.region,
            "JWKS_URL": jwks_server.url,
        }
    )


def assert_rejected(handler: ModuleType, token: object, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    try:
        response = handler.lambda_handler(connect_event(token), LambdaContext())
    except Exception as error:  # the only exception allowed out is API Gateway's 401
        assert type(error) is Exception and str(error) == "Unauthorized", repr(error)
    else:
        pytest.fail(f"expected a 401, got {response!r}")
    output = capsys.readouterr().out
    (record,) = [json.loads(line) for line in output.splitlines()]
    assert record["reason"] in REASONS
    if isinstance(token, str) and len(token) >= 16 and token not in CONSTANTS:
        # The line as logged, less the EMF block (Powertools' fixed names): no trace of the token.
        logged = json.dumps(
            {key: value for key, value in record.items() if key != "_aws"}, ensure_ascii=False
        )
        assert token not in logged and token not in json.dumps(
            record["_aws"]["CloudWatchMetrics"][0]["Metrics"]
        )


@SETTINGS
@given(data=st.binary(max_size=10_000))
def test_any_bytes_as_text_are_rejected(
    handler: ModuleType, capsys: pytest.CaptureFixture[str], data: bytes
) -> None:
    assert_rejected(handler, data.decode("latin-1"), capsys)


@SETTINGS
@given(token=st.binary(max_size=2_000) | st.text(max_size=2_000) | JSON_VALUES)
def test_any_value_of_any_type_is_rejected(
    handler: ModuleType, capsys: pytest.CaptureFixture[str], token: object
) -> None:
    assert_rejected(handler, token, capsys)


@SETTINGS
@given(header=HEADERS, payload=JSON_VALUES, signature=B64URL, raw_header=B64URL, use_raw=st.booleans())
def test_well_shaped_tokens_with_arbitrary_content_are_rejected(
    handler: ModuleType,
    capsys: pytest.CaptureFixture[str],
    header: dict[str, object],
    payload: object,
    signature: str,
    raw_header: str,
    use_raw: bool,
) -> None:
    first = raw_header if use_raw else b64url_json(header)
    assert_rejected(handler, f"{first}.{b64url_json(payload)}.{signature}", capsys)


@SETTINGS
@given(data=st.data())
def test_any_change_to_a_valid_token_is_rejected(
    handler: ModuleType, issuer: TokenIssuer, capsys: pytest.CaptureFixture[str], data: st.DataObject
) -> None:
    token = issuer.id_token()
    start = data.draw(st.integers(min_value=0, max_value=len(token) - 1), label="start")
    end = data.draw(st.integers(min_value=start, max_value=min(len(token), start + 8)), label="end")
    replacement = data.draw(st.text(max_size=8) | st.binary(max_size=6).map(b64url), label="replacement")
    mutated = token[:start] + replacement + token[end:]
    if mutated == token:
        return
    assert_rejected(handler, mutated, capsys)
