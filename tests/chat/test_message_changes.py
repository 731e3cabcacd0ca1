"""editMessage and deleteMessage: who may, what is stored, who hears it, and what history shows."""

from __future__ import annotations

import pytest
from chat.dal import client as dal_client
from chat.dal import keys, message_changes
from chat.dal import messages as message_store

from admin.__main__ import main as admin
from tests.chat.harness import User, dynamodb_requests
from tests.chat.test_rooms import frames_of, make_room
from tests.support import contract


def stored(table, room_id: str, seq: int) -> dict:
    return table.get_item(Key=keys.message(room_id, seq), ConsistentRead=True)["Item"]


def last_item(table, room_id: str) -> dict:
    return table.get_item(Key=keys.last_message(room_id), ConsistentRead=True)["Item"]


def test_an_edit_is_the_next_version_everywhere_and_reaches_every_connection_but_the_editing_one(
    chat_env, table
):
    alice, bob = User(), User()
    a, a_other, b = alice.connect(), alice.connect(), bob.connect()
    room_id = make_room(a, bob)
    sent = a.send("sendMessage", roomId=room_id, content="teh plan")

    first = a.send("editMessage", roomId=room_id, seq=sent["seq"], content="the plan", requestId="e1")
    second = a.send("editMessage", roomId=room_id, seq=sent["seq"], content="the plan!")

    assert first == {
        "type": "edited",
        "roomId": room_id,
        "seq": 1,
        "messageId": sent["messageId"],
        "version": 2,
        "editedAt": first["editedAt"],
        "requestId": "e1",
    }
    assert second["version"] == 3 and second["editedAt"] >= first["editedAt"]
    for connection in (b, a_other):
        heard = frames_of(chat_env, connection, "messageEdited")
        assert [(f["version"], f["content"]) for f in heard] == [(2, "the plan"), (3, "the plan!")]
        assert heard[-1]["senderId"] == alice.user_id and heard[-1]["displayName"] == alice.username
        for frame in heard:
            contract.check_server_frame(frame)
    assert frames_of(chat_env, a, "messageEdited") == []
    [item] = b.send("getMessages", roomId=room_id)["items"]
    assert (item["content"], item["version"], item["editedAt"]) == ("the plan!", 3, second["editedAt"])
    [listed] = b.send("listRooms")["items"]
    assert listed["lastMessage"] == item
    assert stored(table, room_id, 1)["content"] == "the plan!"


def test_only_the_sender_edits_or_deletes_and_only_a_stored_message(chat_env, table):
    alice, bob, carol = User(), User(), User()
    a, b, c = alice.connect(), bob.connect(), carol.connect()
    room_id = make_room(a, bob)
    a.send("sendMessage", roomId=room_id, content="mine")

    for action, fields in (("editMessage", {"content": "yours now"}), ("deleteMessage", {})):
        refused = b.send(action, roomId=room_id, seq=1, **fields)
        assert (refused["code"], refused["retryable"], refused["action"]) == ("FORBIDDEN", False, action)
        missing = a.send(action, roomId=room_id, seq=2, **fields)
        assert (missing["code"], missing["retryable"]) == ("MESSAGE_NOT_FOUND", False)
        assert c.send(action, roomId=room_id, seq=1, **fields)["code"] == "NOT_A_MEMBER"
        assert a.send(action, roomId="nowhere", seq=1, **fields)["code"] == "ROOM_NOT_FOUND"
        for bad in ({"seq": 0}, {"seq": "1"}, {}):
            assert a.send(action, roomId=room_id, **{**fields, **bad})["code"] == "BAD_REQUEST"
    assert a.send("editMessage", roomId=room_id, seq=1, content="")["code"] == "BAD_REQUEST"
    assert a.send("editMessage", roomId=room_id, seq=1, content="x" * 5001)["code"] == "MESSAGE_TOO_LONG"
    assert stored(table, room_id, 1)["content"] == "mine" and "version" not in stored(table, room_id, 1)
    assert frames_of(chat_env, b, "messageEdited") == frames_of(chat_env, b, "messageDeleted") == []


def test_a_delete_leaves_a_tombstone_and_no_content_in_the_table(chat_env, table):
    alice, bob = User(), User()
    a, b = alice.connect(), bob.connect()
    room_id = make_room(a, bob)
    a.send("sendMessage", roomId=room_id, content="wrong room, sorry")
    a.send("editMessage", roomId=room_id, seq=1, content="a secret")

    reply = a.send("deleteMessage", roomId=room_id, seq=1, requestId="d1")

    assert reply == {
        "type": "deleted",
        "roomId": room_id,
        "seq": 1,
        "messageId": reply["messageId"],
        "deletedAt": reply["deletedAt"],
        "deletedBy": alice.user_id,
        "requestId": "d1",
    }
    contract.check_server_frame(reply)
    [told] = frames_of(chat_env, b, "messageDeleted")
    [own] = frames_of(chat_env, a, "messageDeleted")  # every connection, the deleting one too
    assert told == own and (told["deletedBy"], told["messageId"]) == (alice.user_id, reply["messageId"])
    assert told["deletedAt"] == reply["deletedAt"]
    contract.check_server_frame(told)
    [tombstone] = b.send("getMessages", roomId=room_id)["items"]
    # the frame holds what the history's tombstone holds, so it can fill a seq never seen
    assert {k: v for k, v in told.items() if k != "type"} == {
        k: v for k, v in tombstone.items() if k != "deleted"
    }
    for item in (stored(table, room_id, 1), last_item(table, room_id)):
        assert {"content", "version", "editedAt"}.isdisjoint(item), item
        assert item["deletedAt"] == told["deletedAt"] and item["messageId"] == reply["messageId"]
    assert tombstone["deleted"] is True and "content" not in tombstone
    assert b.send("listRooms")["items"][0]["lastMessage"] == tombstone
    # Deleted: no more edits; the seq stays, the next message takes the next one.
    assert a.send("editMessage", roomId=room_id, seq=1, content="back")["code"] == "MESSAGE_NOT_FOUND"
    assert a.send("sendMessage", roomId=room_id, content="next")["seq"] == 2


def test_deleting_a_deleted_message_answers_again_and_tells_nobody_after_the_retry_window(
    chat_env, table, monkeypatch
):
    alice, bob = User(), User()
    a, b = alice.connect(), bob.connect()
    room_id = make_room(a, bob)
    a.send("sendMessage", roomId=room_id, content="oops")
    first = a.send("deleteMessage", roomId=room_id, seq=1)

    retried = a.send("deleteMessage", roomId=room_id, seq=1)  # within the window: a lost answer
    assert retried == first
    assert len(frames_of(chat_env, b, "messageDeleted")) == 2

    monkeypatch.setattr("chat.logic.message_changes.RETRY_WINDOW_SECONDS", -1)
    with dynamodb_requests() as sent:
        again = a.send("deleteMessage", roomId=room_id, seq=1)
    assert again == first
    assert sent == ["BatchGetItem"]  # nothing written
    assert len(frames_of(chat_env, b, "messageDeleted")) == 2


def test_deleting_an_older_message_keeps_the_rooms_last_one(chat_env, table):
    alice, bob = User(), User()
    a = alice.connect()
    bob.connect()
    room_id = make_room(a, bob)
    a.send("sendMessage", roomId=room_id, content="first")
    a.send("sendMessage", roomId=room_id, content="second")

    with dynamodb_requests() as sent:
        a.send("deleteMessage", roomId=room_id, seq=1)

    # the route's two requests (then the fan-out's): no transaction, the LAST item is seq 2's
    assert sent[:2] == ["BatchGetItem", "PutItem"] and "TransactWriteItems" not in sent
    assert last_item(table, room_id)["content"] == "second"
    assert "content" not in stored(table, room_id, 1)


def test_a_delete_whose_last_message_moved_on_since_it_was_read_still_keeps_the_newer_one(chat_env, table):
    """The transaction's condition on the LAST item fails (a later message was cached meanwhile):
    the tombstone is written alone."""
    alice = User()
    a = alice.connect()
    room_id = make_room(a)
    a.send("sendMessage", roomId=room_id, content="first")
    a.send("sendMessage", roomId=room_id, content="second")
    message = message_store.get(room_id, 1)
    assert message is not None

    message_changes.delete(
        message, last_seq=1, deleted_by=alice.user_id, deleted_at="2026-12-07T00:00:00.000Z"
    )

    assert last_item(table, room_id)["content"] == "second"
    assert "content" not in stored(table, room_id, 1)
    with pytest.raises(dal_client.ConditionFailed):  # deleted already: nothing written
        message_changes.delete(
            message, last_seq=2, deleted_by=alice.user_id, deleted_at="2026-12-07T00:00:01.000Z"
        )


def test_a_late_copy_into_last_never_brings_back_an_old_version_or_deleted_content(chat_env, table):
    """sendMessage's last-message write can come after an edit or a delete of its message (a retry's,
    or one that was slow): it never moves LAST backwards, so neither an old version nor deleted
    content comes back."""
    alice = User()
    a = alice.connect()
    room_id = make_room(a)
    a.send("sendMessage", roomId=room_id, content="v1")
    original = message_store.get(room_id, 1)
    assert original is not None
    a.send("editMessage", roomId=room_id, seq=1, content="v2")

    from chat.dal import rooms as room_store

    room_store.cache_last_message(original)
    assert last_item(table, room_id)["content"] == "v2"
    a.send("deleteMessage", roomId=room_id, seq=1)
    room_store.cache_last_message(original)
    message_changes.cache_edit(original)
    assert "content" not in last_item(table, room_id)


def test_edit_needs_an_approved_sender_where_required_and_delete_does_not(
    chat_env, function_env, chat_table, table
):
    alice = User()
    a = alice.connect()
    room_id = make_room(a)
    a.send("sendMessage", roomId=room_id, content="before the gate")
    function_env.set(REQUIRE_VERIFIED_SENDER="true")

    refused = a.send("editMessage", roomId=room_id, seq=1, content="after")
    assert refused["code"] == "VERIFICATION_REQUIRED"
    assert a.send("deleteMessage", roomId=room_id, seq=1)["type"] == "deleted"  # takes text away
    assert admin(["approve", alice.user_id, "--table", chat_table]) == 0
    assert a.send("editMessage", roomId=room_id, seq=1, content="after")["code"] == "MESSAGE_NOT_FOUND"


@pytest.mark.parametrize(("action", "fields"), [("editMessage", {"content": "again"}), ("deleteMessage", {})])
def test_changes_are_rate_limited_per_connection(chat_env, function_env, table, action, fields):
    prefix = "EDIT_MESSAGE" if action == "editMessage" else "DELETE_MESSAGE"
    function_env.set(**{f"{prefix}_RATE_PER_SECOND": "0.001", f"{prefix}_BURST": "2"})
    alice = User()
    a = alice.connect()
    room_id = make_room(a)
    for _ in range(3):
        a.send("sendMessage", roomId=room_id, content="x")

    replies = [a.send(action, roomId=room_id, seq=seq, **fields) for seq in (1, 2, 3)]

    assert [r["type"] for r in replies[:2]] == ["edited" if action == "editMessage" else "deleted"] * 2
    assert (replies[2]["code"], replies[2]["retryable"]) == ("RATE_LIMITED", True)
    assert "deletedAt" not in stored(table, room_id, 3) and "version" not in stored(table, room_id, 3)
