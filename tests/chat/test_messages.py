"""sendMessage (ack, fan-out, idempotency, limits, verification gate) and getMessages."""

from __future__ import annotations

import time

import pytest

from admin.__main__ import main as admin
from tests.chat.harness import User, dynamodb_requests
from tests.chat.test_rooms import WRITES, frames_of, make_room
from tests.support.dynamodb_faults import THROTTLING, TIMEOUT, Call, failing, no_backoff


def messages_in(table, room_id: str) -> list[dict]:
    from boto3.dynamodb.conditions import Key

    condition = Key("PK").eq(f"ROOM#{room_id}") & Key("SK").begins_with("MSG#")
    return table.query(KeyConditionExpression=condition)["Items"]


def test_send_stores_then_acks_and_fans_out_to_everyone_but_the_sending_connection(chat_env, table):
    alice, bob = User(), User()
    a, a_other, b = alice.connect(), alice.connect(), bob.connect()
    room_id = make_room(a, bob)

    ack = a.send("sendMessage", roomId=room_id, content="hello", requestId="s1")

    assert set(ack) == {"type", "roomId", "messageId", "seq", "createdAt", "requestId"}
    assert ack["type"] == "ack" and ack["seq"] == 1 and ack["requestId"] == "s1"
    expected = {
        "type": "message",
        "roomId": room_id,
        "messageId": ack["messageId"],
        "seq": 1,
        "senderId": alice.user_id,
        "content": "hello",
        "createdAt": ack["createdAt"],
        "displayName": alice.username,
        "version": 1,
    }
    assert frames_of(chat_env, b, "message") == [expected]
    assert frames_of(chat_env, a_other, "message") == [expected]
    assert frames_of(chat_env, a, "message") == []
    [stored] = messages_in(table, room_id)
    assert stored["messageId"] == ack["messageId"] and stored["content"] == "hello"


def test_seq_increases_by_one_per_stored_message(chat_env):
    a = User().connect()
    room_id = make_room(a)

    seqs = [a.send("sendMessage", roomId=room_id, content=str(i))["seq"] for i in range(5)]

    assert seqs == [1, 2, 3, 4, 5]


def test_a_retry_with_the_same_client_message_id_gets_the_same_ack_and_is_delivered_once(chat_env, table):
    """The first attempt may have stopped after the store, so a retry queues the stored message's
    fan-out again and stores nothing; when the first was delivered, the room's delivery watermark
    (and the queue's deduplication id, the messageId) drop the copy."""
    alice, bob = User(), User()
    a, b = alice.connect(), bob.connect()
    room_id = make_room(a, bob)

    first = a.send("sendMessage", roomId=room_id, content="once", clientMessageId="cm-1")
    with dynamodb_requests() as sent:
        retry = a.send("sendMessage", roomId=room_id, content="changed", clientMessageId="cm-1")

    assert first["clientMessageId"] == "cm-1"
    assert retry == first
    assert not WRITES - {"PutItem"} & set(sent)  # only the last-message item, conditioned on seq
    delivered = frames_of(chat_env, b, "message")
    assert [(m["messageId"], m["content"]) for m in delivered] == [(first["messageId"], "once")]
    assert len(messages_in(table, room_id)) == 1
    # the same id elsewhere, or from someone else, is another message
    other = make_room(a, bob)
    assert a.send("sendMessage", roomId=other, content="once", clientMessageId="cm-1")["seq"] == 1
    assert b.send("sendMessage", roomId=room_id, content="me too", clientMessageId="cm-1")["seq"] == 2


def test_a_stored_message_is_delivered_when_its_last_message_write_is_throttled(chat_env, table):
    """Issue 10: the message is stored, then the last-message write is throttled (after botocore's
    retries): the sender still gets the ack, the members get the message, the failure is counted."""
    from chat.dal import client

    alice, bob = User(), User()
    a, b = alice.connect(), bob.connect()
    room_id = make_room(a, bob)

    with no_backoff(), failing(client.low_level(), Call("PutItem", 1), THROTTLING) as injected:
        ack = a.send("sendMessage", roomId=room_id, content="hello", clientMessageId="t-1")

    assert injected.attempts == 4  # `max_attempts: 3` in dal/client.py: the call and 3 retries
    assert ack["type"] == "ack" and ack["seq"] == 1, ack
    assert [m["messageId"] for m in frames_of(chat_env, b, "message")] == [ack["messageId"]]
    last = table.get_item(Key={"PK": f"ROOM#{room_id}", "SK": "LAST"}).get("Item")
    assert last is None  # listRooms shows the previous message (none) until the next send
    assert a.send("sendMessage", roomId=room_id, content="hello", clientMessageId="t-1") == ack
    last = table.get_item(Key={"PK": f"ROOM#{room_id}", "SK": "LAST"})["Item"]
    assert last["messageId"] == ack["messageId"]  # the retry also wrote the lost item


def test_a_retry_after_a_failure_past_the_store_delivers_the_stored_message(chat_env, table):
    """The store succeeded but its reply was lost (the transaction timed out after DynamoDB applied
    it; botocore's retries then meet the stored items): the sender gets a retryable error, and its
    retry with the same clientMessageId gets the stored ack while the members get the message."""
    from chat.dal import client

    alice, bob = User(), User()
    a, b = alice.connect(), bob.connect()
    room_id = make_room(a, bob)
    a.send("sendMessage", roomId=room_id, content="first", clientMessageId="x-1")

    with no_backoff(), failing(client.low_level(), Call("TransactWriteItems", 1), TIMEOUT):
        refused = a.send("sendMessage", roomId=room_id, content="second", clientMessageId="x-2")
    assert refused["code"] == "INTERNAL_ERROR" and refused["retryable"] is True
    assert [m["content"] for m in frames_of(chat_env, b, "message")] == ["first"]
    assert [m["content"] for m in messages_in(table, room_id)] == ["first", "second"]

    retried = a.send("sendMessage", roomId=room_id, content="second", clientMessageId="x-2")

    assert retried["type"] == "ack" and retried["seq"] == 2
    assert [m["content"] for m in frames_of(chat_env, b, "message")] == ["first", "second"]


def test_the_transaction_refuses_a_second_message_with_the_same_idempotency_record(chat_env, table):
    from chat.dal import messages
    from chat.models.domain import Message

    a = User().connect()
    room_id = make_room(a)
    ack = a.send("sendMessage", roomId=room_id, content="once", clientMessageId="dup")
    again = Message(room_id, "other-id", ack["seq"] + 1, a.user.user_id, "once", ack["createdAt"], "dup")

    with pytest.raises(messages.Duplicate):
        messages.store(again, idempotency_ttl=4_000_000_000, now=time.time())

    assert len(messages_in(table, room_id)) == 1


def test_a_concurrent_duplicate_that_loses_the_transaction_gets_the_stored_ack(chat_env, table, monkeypatch):
    """Given a retry whose idempotency read raced the original (and missed it), the retry still gets
    the original ack: the transaction refuses its message, and the stored ack is read back."""
    from chat.dal import messages

    alice, bob = User(), User()
    a, b = alice.connect(), bob.connect()
    room_id = make_room(a, bob)
    first = a.send("sendMessage", roomId=room_id, content="once", clientMessageId="race")
    monkeypatch.setattr(
        messages, "send_context", lambda *args, **kwargs: messages.SendContext(True, None, None)
    )

    retry = a.send("sendMessage", roomId=room_id, content="once", clientMessageId="race")

    assert retry == first
    assert len(messages_in(table, room_id)) == 1
    assert [m["messageId"] for m in frames_of(chat_env, b, "message")] == [first["messageId"]]


def test_content_limits(chat_env, table):
    a = User().connect()
    room_id = make_room(a)

    too_long = a.send("sendMessage", roomId=room_id, content="x" * 5001, requestId="big")
    assert too_long["code"] == "MESSAGE_TOO_LONG" and too_long["requestId"] == "big"
    assert a.send("sendMessage", roomId=room_id, content="x" * 5000)["type"] == "ack"
    assert a.send("sendMessage", roomId=room_id, content="")["code"] == "BAD_REQUEST"
    assert a.send("sendMessage", roomId=room_id, content=["x"])["code"] == "BAD_REQUEST"
    assert a.send("sendMessage", roomId=room_id)["code"] == "BAD_REQUEST"
    assert a.send("sendMessage", content="x")["code"] == "BAD_REQUEST"
    assert (
        a.send("sendMessage", roomId=room_id, content="x", clientMessageId="c" * 65)["code"] == "BAD_REQUEST"
    )
    assert len(messages_in(table, room_id)) == 1


def test_the_content_limit_follows_the_environment(chat_env, function_env):
    a = User().connect()
    room_id = make_room(a)
    function_env.set(MESSAGE_MAX_LENGTH="10")

    assert a.send("sendMessage", roomId=room_id, content="x" * 11)["code"] == "MESSAGE_TOO_LONG"
    assert a.send("sendMessage", roomId=room_id, content="x" * 10)["type"] == "ack"


def test_send_to_an_unknown_room_or_as_a_non_member(chat_env, table):
    a, stranger = User().connect(), User().connect()
    room_id = make_room(a)

    assert stranger.send("sendMessage", roomId=room_id, content="hi")["code"] == "NOT_A_MEMBER"
    assert a.send("sendMessage", roomId="nope", content="hi")["code"] == "ROOM_NOT_FOUND"
    assert messages_in(table, room_id) == []


def test_sending_faster_than_the_environment_allows_is_rate_limited(chat_env, function_env, table):
    function_env.set(SEND_RATE_PER_SECOND="0.01", SEND_BURST="2")
    a = User().connect()
    room_id = make_room(a)

    assert [a.send("sendMessage", roomId=room_id, content="x")["type"] for _ in range(2)] == ["ack", "ack"]
    with dynamodb_requests() as sent:
        limited = a.send("sendMessage", roomId=room_id, content="x", requestId="r")

    assert limited["code"] == "RATE_LIMITED" and limited["retryable"] is True and limited["requestId"] == "r"
    assert sent == []  # no DynamoDB request spent on the limit or on the refused message
    assert len(messages_in(table, room_id)) == 2
    # the limit is per connection
    assert User().connect().send("createRoom", name="x")["type"] == "room"


def test_required_verified_sender_needs_an_approved_profile(chat_env, function_env, chat_table, table):
    alice = User()
    a = alice.connect()
    room_id = make_room(a)
    function_env.set(REQUIRE_VERIFIED_SENDER="true")

    refused = a.send("sendMessage", roomId=room_id, content="hi")
    assert refused["code"] == "VERIFICATION_REQUIRED" and refused["retryable"] is False

    assert admin(["approve", alice.user_id, "--table", chat_table]) == 0
    assert a.send("sendMessage", roomId=room_id, content="hi")["type"] == "ack"

    assert admin(["revoke", alice.user_id, "--table", chat_table]) == 0
    assert a.send("sendMessage", roomId=room_id, content="again")["code"] == "VERIFICATION_REQUIRED"
    assert len(messages_in(table, room_id)) == 1


def test_the_verified_sender_gate_also_covers_room_names_members_and_typing(
    chat_env, function_env, chat_table
):
    """An unapproved user cannot push text or people to others another way: no room with a name
    and members, no typing notices."""
    mallory, victim = User(), User()
    m, v = mallory.connect(), victim.connect()
    shared = make_room(m, victim)
    function_env.set(REQUIRE_VERIFIED_SENDER="true")
    posts_before = chat_env.delivered_count()

    created = m.send("createRoom", name="click evil.example", memberIds=[victim.user_id])
    typed = m.send("typing", roomId=shared)

    assert created["code"] == typed["code"] == "VERIFICATION_REQUIRED"
    assert chat_env.delivered_count() == posts_before
    assert [r["roomId"] for r in v.send("listRooms")["items"]] == [shared]
    assert admin(["approve", mallory.user_id, "--table", chat_table]) == 0
    assert m.send("createRoom", name="fine now", memberIds=[victim.user_id])["type"] == "room"
    assert m.send("typing", roomId=shared) is None
    assert [f["type"] for f in frames_of(chat_env, v, "typing")] == ["typing"]


def test_get_messages_pages_by_seq(chat_env):
    a = User().connect()
    room_id = make_room(a)
    for i in range(1, 8):
        a.send("sendMessage", roomId=room_id, content=f"m{i}")

    def page(**fields) -> tuple[list[int], bool]:
        reply = a.send("getMessages", roomId=room_id, **fields)
        assert reply["type"] == "messages" and reply["roomId"] == room_id
        return [m["seq"] for m in reply["items"]], reply["hasMore"]

    assert page() == ([1, 2, 3, 4, 5, 6, 7], False)
    assert page(limit=3) == ([5, 6, 7], True)  # the newest page; older ones exist
    assert page(before=5, limit=3) == ([2, 3, 4], True)
    assert page(before=3, limit=3) == ([1, 2], False)
    assert page(after=2, limit=3) == ([3, 4, 5], True)  # resuming: newer ones exist
    assert page(after=5) == ([6, 7], False)
    assert page(after=7) == ([], False)
    assert page(after=1, before=5) == ([2, 3, 4], False)
    reply = a.send("getMessages", roomId=room_id, after=6, requestId="g")
    assert reply["requestId"] == "g"
    assert reply["items"][0]["content"] == "m7" and reply["items"][0]["senderId"] == a.user.user_id


def test_get_messages_validation_and_membership(chat_env):
    a, stranger = User().connect(), User().connect()
    room_id = make_room(a)

    for fields in (
        {"limit": 0},
        {"limit": 101},
        {"limit": "5"},
        {"after": -1},
        {"before": 0},
        {"after": 3, "before": 4},
    ):
        assert a.send("getMessages", roomId=room_id, **fields)["code"] == "BAD_REQUEST", fields
    assert a.send("getMessages")["code"] == "BAD_REQUEST"
    assert stranger.send("getMessages", roomId=room_id)["code"] == "NOT_A_MEMBER"
    assert a.send("getMessages", roomId="nope")["code"] == "ROOM_NOT_FOUND"


def test_a_connection_not_in_the_sending_room_gets_nothing(chat_env):
    alice, bob = User(), User()
    a, b = alice.connect(), bob.connect()
    room_id = make_room(a)

    a.send("sendMessage", roomId=room_id, content="private")

    assert frames_of(chat_env, b, "message") == []


def test_a_client_message_id_whose_record_expired_is_a_new_message(chat_env, table):
    """DynamoDB deletes expired items up to days late: a record past its 24 h is absent, in the read
    and in the write's condition, so reusing the id stores a new message (no error, no burnt seq)."""
    a = User().connect()
    room_id = make_room(a)
    first = a.send("sendMessage", roomId=room_id, content="day one", clientMessageId="reused")
    table.update_item(
        Key={"PK": f"ROOM#{room_id}", "SK": f"IDEM#{a.user.user_id}#reused"},
        UpdateExpression="SET #ttl = :past",
        ExpressionAttributeNames={"#ttl": "ttl"},
        ExpressionAttributeValues={":past": 1},
    )

    later = a.send("sendMessage", roomId=room_id, content="day two", clientMessageId="reused")

    assert later["type"] == "ack", later
    assert later["seq"] == first["seq"] + 1 and later["messageId"] != first["messageId"]
    assert [m["content"] for m in messages_in(table, room_id)] == ["day one", "day two"]
