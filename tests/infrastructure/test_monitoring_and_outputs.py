"""Alarms go to the environment's topic; the stack outputs exactly the keys frontend teams read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stacks.outputs import OutputsError, flatten, main
from tests.infrastructure.conftest import Synth

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


def test_alarms_cover_functions_api_and_table_and_notify_the_topic(each_env: Synth) -> None:
    alarms = alarms_by_metric(each_env)
    assert len(alarms[("AWS/Lambda", "Errors")]) == 4
    assert len(alarms[("AWS/Lambda", "Throttles")]) == 4
    assert ("AWS/ApiGateway", "IntegrationError") in alarms
    assert ("AWS/ApiGateway", "ExecutionError") in alarms
    assert ("AWS/DynamoDB", "ReadThrottleEvents") in alarms
    assert ("AWS/DynamoDB", "WriteThrottleEvents") in alarms
    (topic_id,) = each_env.resources("AWS::SNS::Topic")
    for props in (p for group in alarms.values() for p in group):
        assert props["AlarmActions"] == [{"Ref": topic_id}]
        assert props["TreatMissingData"] == "notBreaching"


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
