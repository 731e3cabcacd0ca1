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

from tests.chat.harness import Connection, User, dynamodb_requests, new_connection_id, new_id

MAX_REQUESTS = 4


def seeded_room(sender: Connection, size: int) -> tuple[str, list[str]]:
    """A room of `size` members (the sender included), each other member with one live connection."""
    others = [new_id() for _ in range(size - 1)]
    room = Room(
        room_id=new_id(),
        name=f"room of {size}",
        open=False,
        created_by=sender.user.user_id,
        created_at="2026-11-23T00:00:00.000Z",
        member_ids=frozenset([sender.user.user_id, *others]),
    )
    membership = Membership(room.room_id, room.name, False, joined_at=room.created_at, last_read_seq=0)
    rooms.create(room, [(sender.user.user_id, membership)])
    index = {sender.connection_id: sender.user.user_id} | {new_connection_id(): user for user in others}
    rooms.index_connections(room.room_id, index)
    return room.room_id, [c for c in index if c != sender.connection_id]


@pytest.mark.parametrize("size", [2, 50, 500])
@pytest.mark.parametrize("client_message_id", [None, "retry-key"])
@pytest.mark.parametrize("verified_senders", [False, True])
def test_send_message_costs_at_most_four_requests(
    chat_env, chat_table, monkeypatch, size, client_message_id, verified_senders
):
    sender = User().connect()
    room_id, audience = seeded_room(sender, size)
    if verified_senders:
        from admin.__main__ import main as admin

        monkeypatch.setenv("REQUIRE_VERIFIED_SENDER", "true")
        admin(["approve", sender.user.user_id, "--table", chat_table])
    fields = {"clientMessageId": client_message_id} if client_message_id else {}
    delivered_before = chat_env.delivered_count()

    with dynamodb_requests() as sent:
        ack = sender.send("sendMessage", roomId=room_id, content="hello", **fields)

    assert ack["type"] == "ack" and ack["seq"] == 1
    assert len(sent) <= MAX_REQUESTS, sent
    assert chat_env.delivered_count() - delivered_before == len(audience) == size - 1
    if client_message_id:
        with dynamodb_requests() as retry:
            assert sender.send("sendMessage", roomId=room_id, content="hello", **fields) == ack
        assert retry == ["BatchGetItem"]


def test_the_requests_of_one_send_are_the_documented_ones(chat_env):
    sender = User().connect()
    room_id, _ = seeded_room(sender, 3)

    with dynamodb_requests() as sent:
        sender.send("sendMessage", roomId=room_id, content="hello", clientMessageId=str(time.time()))

    assert sent == ["BatchGetItem", "UpdateItem", "TransactWriteItems", "UpdateItem"]
