"""sendMessage costs at most 4 DynamoDB requests, whatever the size of the room.

The rooms are seeded through the data-access layer (a 500-member room built by 499 joins would take
seconds); the message is then sent through the real handler and every HTTP request to DynamoDB is
counted with botocore's `before-send` event.
"""

from __future__ import annotations

import time

import pytest
from chat.dal import rooms
from chat.models.domain import Membership, Room

from admin.__main__ import main as admin
from tests.chat.harness import Connection, User, dynamodb_requests, new_connection_id, new_id

MAX_REQUESTS = 4


def seeded_room(sender: Connection, size: int) -> tuple[str, list[str]]:
    """A room of `size` members (the sender included), each other member with one live connection."""
    others = [new_id() for _ in range(size - 1)]
    index = {sender.connection_id: sender.user.user_id} | {new_connection_id(): user for user in others}
    room = Room(
        room_id=new_id(),
        name=f"room of {size}",
        open=False,
        created_by=sender.user.user_id,
        created_at="2026-11-23T00:00:00.000Z",
        member_ids=frozenset([sender.user.user_id, *others]),
        connections=index,
    )
    membership = Membership(room.room_id, room.name, False, joined_at=room.created_at, last_read_seq=0)
    rooms.create(room, [(sender.user.user_id, membership)])
    return room.room_id, [c for c in index if c != sender.connection_id]


def send_counting(sender: Connection, room_id: str, fields: dict[str, str]) -> tuple[dict, list[str]]:
    with dynamodb_requests() as sent:
        ack = sender.send("sendMessage", roomId=room_id, content="hello", **fields)
    return ack, sent


@pytest.mark.parametrize("size", [2, 50, 500])
@pytest.mark.parametrize("client_message_id", [None, "retry-key"])
def test_send_message_costs_at_most_four_requests(chat_env, size, client_message_id):
    sender = User().connect()
    room_id, audience = seeded_room(sender, size)
    fields = {"clientMessageId": client_message_id} if client_message_id else {}
    delivered_before = chat_env.delivered_count()

    ack, sent = send_counting(sender, room_id, fields)

    assert ack["type"] == "ack" and ack["seq"] == 1
    assert len(sent) <= MAX_REQUESTS, sent
    assert chat_env.delivered_count() - delivered_before == len(audience) == size - 1
    if client_message_id:
        retry, sent = send_counting(sender, room_id, fields)
        assert retry == ack
        assert sent == ["BatchGetItem"]


def test_the_verified_sender_gate_adds_no_request(chat_env, chat_table, monkeypatch):
    sender = User().connect()
    room_id, _ = seeded_room(sender, 500)
    monkeypatch.setenv("REQUIRE_VERIFIED_SENDER", "true")
    assert admin(["approve", sender.user.user_id, "--table", chat_table]) == 0

    ack, sent = send_counting(sender, room_id, {"clientMessageId": "with-gate"})

    assert ack["type"] == "ack"
    assert len(sent) <= MAX_REQUESTS, sent


def test_the_requests_of_one_send_are_the_documented_ones(chat_env):
    sender = User().connect()
    room_id, _ = seeded_room(sender, 3)

    with dynamodb_requests() as sent:
        sender.send("sendMessage", roomId=room_id, content="hello", clientMessageId=str(time.time()))

    assert sent == ["BatchGetItem", "UpdateItem", "TransactWriteItems", "UpdateItem"]
