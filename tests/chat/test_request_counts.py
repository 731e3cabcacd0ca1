"""sendMessage costs 4 DynamoDB requests, 1 Lambda request and at most 8 write units, whatever the
room; editMessage and deleteMessage cost what docs/DATA_MODEL.md lists, whatever the room too.

The rooms are seeded through the data-access layer (a 10,000-member room built by joins would take
minutes); the message is then sent through the real handler. Every HTTP request to DynamoDB is
counted with botocore's `before-send` event, every fan-out the route queued by the Lambda API that
received it, and the write units of every item written by `tests/support/write_units.py` (DynamoDB's
documented item-size rules, from each item's images right before and right after its request).
"""

from __future__ import annotations

import time

import pytest
from chat.dal import client as dal_client
from chat.dal import members
from chat.models.domain import ConnectionEntry, Member, Membership, Room

from admin.__main__ import main as admin
from tests.chat.harness import ClientConnection, User, dynamodb_requests, new_connection_id, new_id
from tests.support.write_units import metered_writes

MAX_DYNAMODB_REQUESTS = 4
MAX_WRITE_UNITS = 8
# The units of each item one send writes (a transaction counts twice): the room's seq counter, the
# last-message item, and in the transaction the message, the idempotency record and the sender's
# read position. None is bigger than 1 KB for a short message, whatever the room's size.
UNITS_PER_ITEM = {"ROOM": 1, "LAST": 1, "MSG#": 2, "IDEM#": 2, "ROOM#": 2}


def seeded_room(
    sender: ClientConnection, size: int, *, online: int | None = None, open_: bool = False
) -> tuple[str, list[Member]]:
    """A room of `size` members (the sender included); `online` of the others (default: all) have
    one live connection each, the first ones. Returns the room id and the other members."""
    online = size - 1 if online is None else online
    now = time.time()
    created_at = "2026-11-23T00:00:00.000Z"
    expires = ConnectionEntry(int(now) + 3600, int(now) + 3600)
    me = Member(sender.user.user_id, "sender", created_at, {sender.connection_id: expires})
    others = [
        Member(new_id(), f"member {i}", created_at, {new_connection_id(): expires} if i < online else {})
        for i in range(size - 1)
    ]
    room = Room(new_id(), f"room of {size}", open_, me.user_id, created_at, member_count=size)
    membership = Membership(room.room_id, room.name, open_, joined_at=created_at, last_read_seq=0)
    members.create_room(room, [me], membership)
    dal_client.batch_put([members.member_item(room.room_id, member) for member in others])
    return room.room_id, others


def send_counting(
    sender: ClientConnection, room_id: str, fields: dict[str, str], *, settle: bool = True
) -> tuple[dict, list[str]]:
    with dynamodb_requests() as sent:
        ack = sender.send("sendMessage", roomId=room_id, content="hello", settle=settle, **fields)
    return ack, sent


@pytest.mark.parametrize("size", [2, 50, 500])
@pytest.mark.parametrize("client_message_id", [None, "retry-key"])
def test_send_message_costs_four_dynamodb_requests_and_one_fan_out(
    chat_env, lambda_server, size, client_message_id
):
    sender = User().connect()
    room_id, others = seeded_room(sender, size)
    audience = [cid for member in others for cid in member.connections]
    fields = {"clientMessageId": client_message_id} if client_message_id else {}
    delivered_before = chat_env.delivered_count()
    invoked_before = len(lambda_server.invocations)

    with lambda_server.held():
        ack, sent = send_counting(sender, room_id, fields, settle=False)
    with dynamodb_requests() as fanned:
        lambda_server.drain()

    assert ack["type"] == "ack" and ack["seq"] == 1
    assert len(sent) <= MAX_DYNAMODB_REQUESTS, sent
    assert [job["roomId"] for job in lambda_server.jobs(invoked_before)] == [room_id]
    # the member pages, and the room's delivery watermark read and advanced (room_order)
    assert [op for op in fanned if op != "Query"] == ["GetItem", "UpdateItem"], fanned
    assert chat_env.delivered_count() - delivered_before == len(audience) == size - 1
    if client_message_id:
        with lambda_server.held():
            retry, sent = send_counting(sender, room_id, fields, settle=False)
        with dynamodb_requests() as fanned:
            lambda_server.drain()
        assert retry == ack
        # the stored message read back and its last-message item again; the fan-out queued again
        # reads the watermark, which says the message was delivered
        assert sent == ["BatchGetItem", "GetItem", "PutItem"]
        assert fanned in ([], ["GetItem"])  # [] if the queue dropped the copy (deduplication id)
        assert chat_env.delivered_count() - delivered_before == len(audience)  # not again


def test_the_verified_sender_gate_adds_no_request(chat_env, chat_table, function_env, lambda_server):
    sender = User().connect()
    room_id, _ = seeded_room(sender, 500, online=0)
    function_env.set(REQUIRE_VERIFIED_SENDER="true")
    assert admin(["approve", sender.user.user_id, "--table", chat_table]) == 0

    with lambda_server.held():
        ack, sent = send_counting(sender, room_id, {"clientMessageId": "with-gate"}, settle=False)
    lambda_server.drain()

    assert ack["type"] == "ack"
    assert sent == ["BatchGetItem", "UpdateItem", "TransactWriteItems", "PutItem"]


def test_the_requests_of_one_send_are_the_documented_ones(chat_env, lambda_server):
    sender = User().connect()
    room_id, _ = seeded_room(sender, 3)

    with lambda_server.held(), dynamodb_requests() as sent:
        sender.send("sendMessage", roomId=room_id, content="hi", clientMessageId=new_id(), settle=False)
    lambda_server.drain()

    assert sent == ["BatchGetItem", "UpdateItem", "TransactWriteItems", "PutItem"]


@pytest.mark.parametrize("size", [2, 1000, 10_000])
def test_a_send_an_edit_and_a_delete_write_constant_units_whatever_the_room(chat_env, lambda_server, size):
    """Every item one send writes, with its units: the same at 2, 1,000 and 10,000 members; and an
    edit (the message, LAST) and a delete (a tombstone for each, in a transaction; only the message's
    when a later one is the last), the same there too (one seeded room per size serves all three)."""
    sender = User().connect()
    room_id, _ = seeded_room(sender, size, online=min(size - 1, 20))

    with lambda_server.held(), metered_writes(dal_client.low_level()) as record:
        ack = sender.send(
            "sendMessage", roomId=room_id, content="hello", clientMessageId=new_id(), settle=False
        )
    lambda_server.drain()

    assert ack["type"] == "ack"
    written = {
        (item.key["SK"]["S"], request.operation): item.units
        for request in record.requests
        for item in request.items
    }
    by_kind = {_kind(sk): units for (sk, _), units in written.items()}
    assert by_kind == UNITS_PER_ITEM, written
    assert record.total == sum(UNITS_PER_ITEM.values()) <= MAX_WRITE_UNITS

    sender.send("sendMessage", roomId=room_id, content="the last one")
    for action, fields, requests, units in CHANGES:
        with (
            lambda_server.held(),
            metered_writes(dal_client.low_level()) as record,
            dynamodb_requests() as sent,
        ):
            reply = sender.send(action, roomId=room_id, settle=False, **fields)
        lambda_server.drain()
        assert reply["type"] in ("edited", "deleted"), reply
        assert sent == requests, (action, fields)
        assert [(item.key["SK"]["S"][:4], item.units) for r in record.requests for item in r.items] == units


# (action, fields, the route's DynamoDB requests, the (item kind, write units) written), in this
# order on a room whose messages are seq 1 and 2 (both short): docs/DATA_MODEL.md's rows.
CHANGES = [
    (
        "editMessage",
        {"seq": 2, "content": "the last one!"},
        ["BatchGetItem", "UpdateItem", "PutItem"],
        [("MSG#", 1), ("LAST", 1)],
    ),
    ("deleteMessage", {"seq": 1}, ["BatchGetItem", "PutItem"], [("MSG#", 1)]),
    ("deleteMessage", {"seq": 2}, ["BatchGetItem", "TransactWriteItems"], [("MSG#", 2), ("LAST", 2)]),
]


def _kind(sort_key: str) -> str:
    for prefix in ("MSG#", "IDEM#", "ROOM#"):
        if sort_key.startswith(prefix):
            return prefix
    return sort_key
