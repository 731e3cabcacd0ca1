"""The stack outputs exactly the keys frontend teams read, and `make deploy` flattens them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stacks import constants
from tests.infrastructure.conftest import Synth
from tools.outputs import OutputsError, flatten, main

# The published contract, written out: stacks/constants.py (which the stack and the local stack use)
# must say the same.
OUTPUT_KEYS = {"Region", "UserPoolId", "UserPoolClientId", "WebSocketUrl"}


def test_the_constants_name_the_published_keys() -> None:
    assert set(constants.OUTPUT_KEYS) == OUTPUT_KEYS


def test_outputs_are_exactly_the_published_keys(each_env: Synth) -> None:
    assert set(each_env.raw["Outputs"]) == OUTPUT_KEYS
    url = json.dumps(each_env.raw["Outputs"]["WebSocketUrl"]["Value"])
    assert url.startswith('{"Fn::Join": ["", ["wss://"')
    assert f"/{each_env.env_name}" in url
    assert each_env.raw["Outputs"]["Region"]["Value"] == {"Ref": "AWS::Region"}


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
