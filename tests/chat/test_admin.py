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


def test_migrate_moves_a_room_of_the_old_layout_and_its_members_then_chat_works(chat_env, chat_table, table):
    """A room as the old layout wrote it: members, connection index and last message on the room item."""
    from admin.migrate import main as migrate
    from tests.chat.harness import User
    from tests.chat.test_rooms import frames_of

    alice, bob, gone = User(), User(), new_id()
    room_id = new_id()
    last = {"roomId": room_id, "messageId": new_id(), "seq": 3, "senderId": alice.user_id}
    last |= {"content": "before the upgrade", "createdAt": "2026-11-01T00:00:00.000Z"}
    table.put_item(
        Item={
            "PK": f"ROOM#{room_id}", "SK": "ROOM", "roomId": room_id, "name": "old", "open": False,
            "createdBy": alice.user_id, "createdAt": "2026-11-01T00:00:00.000Z", "seq": 3,
            "members": {alice.user_id, bob.user_id, gone}, "conns": {"old-conn": bob.user_id},
            "lastMessage": last,
        }
    )  # fmt: skip
    for user in (alice, bob):  # `gone` left: its membership is gone, the old set still listed it
        table.put_item(
            Item={
                "PK": f"USER#{user.user_id}", "SK": f"ROOM#{room_id}", "roomId": room_id, "name": "old",
                "open": False, "joinedAt": "2026-11-01T00:00:00.000Z", "lastReadSeq": 0,
            }
        )  # fmt: skip

    assert migrate(["--table", chat_table, "--dry-run"]) == 0
    assert "members" in table.get_item(Key={"PK": f"ROOM#{room_id}", "SK": "ROOM"})["Item"]
    assert migrate(["--table", chat_table]) == 0
    assert migrate(["--table", chat_table]) == 0  # nothing left to do: safe to repeat

    room = table.get_item(Key={"PK": f"ROOM#{room_id}", "SK": "ROOM"})["Item"]
    assert not set(room) & {"members", "conns", "lastMessage"}
    assert (room["memberCount"], room["onlineCount"], room["seq"]) == (2, 0, 3)
    a, b = alice.connect(), bob.connect()
    [listed] = [item for item in a.send("listRooms")["items"] if item["roomId"] == room_id]
    assert listed["lastMessage"]["content"] == "before the upgrade"
    assert a.send("sendMessage", roomId=room_id, content="after")["seq"] == 4
    assert [f["content"] for f in frames_of(chat_env, b, "message")] == ["after"]
    assert User(user_id=gone).connect().send("getMessages", roomId=room_id)["code"] == "NOT_A_MEMBER"
    # The rooms counters (newer than this layout) are counted on first use: no migration step.
    assert a.send("createRoom", name="after the upgrade")["type"] == "room"
    assert b.send("leaveRoom", roomId=room_id)["type"] == "left"
    counters = {
        user.user_id: table.get_item(Key={"PK": f"USER#{user.user_id}", "SK": "ROOMS"})["Item"]["rooms"]
        for user in (alice, bob)
    }
    assert counters == {alice.user_id: 2, bob.user_id: 0}
