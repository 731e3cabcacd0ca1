"""The operator command that approves and revokes sender profiles."""

from __future__ import annotations

import json

import pytest

from admin.__main__ import main as admin
from tests.chat.harness import new_id


def profile(table, user_id: str) -> dict | None:
    return table.get_item(Key={"PK": f"USER#{user_id}", "SK": "PROFILE"}).get("Item")


def test_approve_revoke_and_show(chat_table, table, capsys):
    user_id = new_id()

    assert admin(["show", user_id, "--table", chat_table]) == 0
    assert json.loads(capsys.readouterr().out) == {"userId": user_id, "verificationStatus": "none"}
    assert admin(["approve", user_id, "--table", chat_table]) == 0
    assert profile(table, user_id)["verificationStatus"] == "approved"
    assert admin(["revoke", user_id, "--table", chat_table]) == 0
    assert profile(table, user_id)["verificationStatus"] == "revoked"
    assert json.loads(capsys.readouterr().out.split("}\n", 1)[1])["verificationStatus"] == "revoked"


def test_local_reads_the_local_stacks_outputs(chat_table, moto_server, table, tmp_path, monkeypatch):
    (tmp_path / ".local").mkdir()
    outputs = {"TableName": chat_table, "DynamoDBEndpoint": moto_server.endpoint, "Region": "ap-northeast-1"}
    (tmp_path / ".local" / "outputs.json").write_text(json.dumps(outputs))
    monkeypatch.chdir(tmp_path)
    for key in ("AWS_ENDPOINT_URL_DYNAMODB", "AWS_DEFAULT_REGION", "TABLE_NAME"):
        monkeypatch.setenv(key, "unset")
    user_id = new_id()

    assert admin(["approve", user_id, "--local"]) == 0

    assert profile(table, user_id)["verificationStatus"] == "approved"


def test_a_table_is_required(monkeypatch, tmp_path):
    monkeypatch.delenv("TABLE_NAME", raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit):
        admin(["approve", new_id()])
    with pytest.raises(SystemExit, match="make local"):
        admin(["approve", new_id(), "--local"])
