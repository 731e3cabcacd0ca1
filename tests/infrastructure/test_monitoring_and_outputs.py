"""Alarms go to the environment's topic; the stack outputs exactly the keys frontend teams read."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from stacks.outputs import OutputsError, flatten, main
from tests.infrastructure.conftest import Synth

REPO = Path(__file__).parents[2]
OUTPUT_KEYS = {"Region", "UserPoolId", "UserPoolClientId", "WebSocketUrl"}


def test_outputs_are_exactly_the_published_keys(each_env: Synth) -> None:
    assert set(each_env.raw["Outputs"]) == OUTPUT_KEYS
    url = json.dumps(each_env.raw["Outputs"]["WebSocketUrl"]["Value"])
    assert url.startswith('{"Fn::Join": ["", ["wss://"')
    assert f"/{each_env.env_name}" in url
    assert each_env.raw["Outputs"]["Region"]["Value"] == {"Ref": "AWS::Region"}


def alarms_by_metric(synth: Synth) -> dict[tuple[str, str], list[dict]]:
    found: dict[tuple[str, str], list[dict]] = {}
    for alarm in synth.resources("AWS::CloudWatch::Alarm").values():
        props = alarm["Properties"]
        found.setdefault((props["Namespace"], props["MetricName"]), []).append(props)
    return found


def dimensions(props: dict) -> dict:
    return {d["Name"]: d["Value"] for d in props["Dimensions"]}


def test_alarms_cover_functions_api_and_table_and_notify_the_topic(each_env: Synth) -> None:
    alarms = alarms_by_metric(each_env)
    assert len(alarms[("AWS/Lambda", "Throttles")]) == 4
    assert ("AWS/ApiGateway", "IntegrationError") in alarms
    assert ("AWS/ApiGateway", "ExecutionError") in alarms
    assert ("AWS/DynamoDB", "ReadThrottleEvents") in alarms
    assert ("AWS/DynamoDB", "WriteThrottleEvents") in alarms
    (topic_id,) = each_env.resources("AWS::SNS::Topic")
    for props in (p for group in alarms.values() for p in group):
        assert props["AlarmActions"] == [{"Ref": topic_id}]
        assert props["TreatMissingData"] == "notBreaching"


def test_function_failures_alarm_but_refused_tokens_do_not(each_env: Synth) -> None:
    alarms = alarms_by_metric(each_env)
    authorizer = each_env.logical_id("AWS::Lambda::Function", "/AuthorizerFunction/")
    # Lambda's Errors: the route functions only (a refused token is an error of the authorizer)
    errors = [dimensions(props)["FunctionName"] for props in alarms[("AWS/Lambda", "Errors")]]
    assert len(errors) == 3 and {"Ref": authorizer} not in errors
    # The functions' own failure metrics, in the namespace and service the functions publish to
    namespace = f"Chat/{each_env.env_name}"
    rejected = [dimensions(props) for props in alarms[(namespace, "TokenRejected")]]
    assert sorted(d["reason"] for d in rejected) == ["internal_error", "keys_unavailable"]
    (route_errors,) = alarms[(namespace, "Errors")]
    assert dimensions(route_errors) == {"service": "chat", "Code": "INTERNAL_ERROR"}
    variables = each_env.raw["Resources"][authorizer]["Properties"]["Environment"]["Variables"]
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == namespace
    assert all(d["service"] == variables["POWERTOOLS_SERVICE_NAME"] for d in rejected)


EMIT = {
    "AuthorizerFunction": (
        "import sys; sys.path.insert(0, 'authorizer'); import telemetry; from cognito_verifier import Reason;"
        "telemetry.token_rejected(Reason.KEYS_UNAVAILABLE, request_id='r');"
        "telemetry.authorizer_error(ValueError(), request_id='r')"
    ),
    "DirectFunction": (
        "import sys; sys.path.insert(0, 'lambdas'); from chat.observability import count_by;"
        "count_by('Errors', 'Code', 'INTERNAL_ERROR')"
    ),
}


@pytest.mark.parametrize("function_name", EMIT)
def test_application_alarms_watch_the_metrics_the_code_really_emits(dev: Synth, function_name: str) -> None:
    # Given the function's code run with the environment the stack gives it
    function_id = dev.logical_id("AWS::Lambda::Function", f"/{function_name}/")
    variables = dev.raw["Resources"][function_id]["Properties"]["Environment"]["Variables"]
    env = {**os.environ, **{k: v for k, v in variables.items() if isinstance(v, str)}}
    result = subprocess.run(
        [sys.executable, "-c", EMIT[function_name]], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    # When its EMF lines are read as CloudWatch reads them
    emitted = set()
    for line in result.stdout.splitlines():
        record = json.loads(line)
        for directive in record["_aws"]["CloudWatchMetrics"]:
            for dimension_set in directive["Dimensions"]:
                dims = tuple(sorted((name, record[name]) for name in dimension_set))
                emitted |= {(directive["Namespace"], m["Name"], dims) for m in directive["Metrics"]}
    # Then every application alarm on that code's metrics matches an emitted metric exactly
    watched = {
        (props["Namespace"], props["MetricName"], tuple(sorted(dimensions(props).items())))
        for props in (a["Properties"] for a in dev.resources("AWS::CloudWatch::Alarm").values())
        if props["Namespace"] == variables["POWERTOOLS_METRICS_NAMESPACE"]
        and props["MetricName"] in {m for _, m, _ in emitted}
    }
    assert watched
    assert watched <= emitted


def test_alarm_topic_is_encrypted_and_tls_only(each_env: Synth) -> None:
    (topic,) = each_env.resources("AWS::SNS::Topic").values()
    assert "KmsMasterKeyId" in topic["Properties"]
    (policy,) = each_env.resources("AWS::SNS::TopicPolicy").values()
    statement = policy["Properties"]["PolicyDocument"]["Statement"][0]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


RAW = {"Chat-dev": {"Region": "ap-northeast-1", "UserPoolId": "ap-northeast-1_Ab", "UserPoolClientId": "4k1",
                    "WebSocketUrl": "wss://abc.execute-api.ap-northeast-1.amazonaws.com/dev"}}  # fmt: skip


def test_deploy_outputs_are_flattened_for_frontend_teams(tmp_path: Path) -> None:
    raw, out = tmp_path / ".raw-dev.json", tmp_path / "outputs" / "dev.json"
    raw.write_text(json.dumps(RAW))
    assert main([str(raw), str(out)]) == 0
    assert json.loads(out.read_text()) == RAW["Chat-dev"]


def test_flattening_refuses_missing_keys_and_several_stacks() -> None:
    with pytest.raises(OutputsError, match="WebSocketUrl"):
        flatten({"Chat-dev": {k: v for k, v in RAW["Chat-dev"].items() if k != "WebSocketUrl"}})
    with pytest.raises(OutputsError, match="one stack"):
        flatten({**RAW, "Chat-prod": RAW["Chat-dev"]})


def test_flattening_missing_file_fails_loudly(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main([str(tmp_path / "absent.json"), str(tmp_path / "dev.json")]) == 1
    assert "absent.json" in capsys.readouterr().err
