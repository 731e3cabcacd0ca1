"""The limits of docs/DATA_MODEL.md, at the limits: connections per user (429), members per room
(FORBIDDEN), and no item or expression near DynamoDB's 400 KB and 4 KB whatever the counts."""

from __future__ import annotations

import json
import time

import pytest
from chat.dal import client as dal_client
from chat.logic import sessions
from chat.models.domain import Caller

from tests.chat.harness import ClientConnection, User, new_connection_id
from tests.chat.test_request_counts import seeded_room
from tests.chat.test_rooms import make_room
from tests.chat.test_sessions import connection_items
from tests.support.write_units import typed_item_size

MAX_CONNECTIONS = 10


def test_the_eleventh_connection_of_a_user_is_refused_with_429_and_nothing_is_stored(table):
    user = User()
    connections = [user.connect() for _ in range(MAX_CONNECTIONS)]
    refused = ClientConnection(user, new_connection_id())

    assert refused.lifecycle("connect") == {"statusCode": 429}

    assert connection_items(table, refused) == (None, None)
    user_map = table.get_item(Key={"PK": f"USER#{user.user_id}", "SK": "CONNS"})["Item"]
    assert set(user_map["conns"]) == {c.connection_id for c in connections}
    connections[0].disconnect()
    assert refused.lifecycle("connect") == {"statusCode": 200}  # a slot is free again


def test_connections_that_expired_without_disconnect_do_not_count_and_are_dropped(table):
    user = User()
    expired = int(time.time()) - 1
    stale = {new_connection_id(): expired for _ in range(MAX_CONNECTIONS)}
    table.put_item(Item={"PK": f"USER#{user.user_id}", "SK": "CONNS", "conns": stale, "version": 7})

    connection = user.connect()

    user_map = table.get_item(Key={"PK": f"USER#{user.user_id}", "SK": "CONNS"})["Item"]
    assert set(user_map["conns"]) == {connection.connection_id}
    assert user_map["version"] == 8


def test_joining_a_full_room_is_forbidden_and_writes_nothing(chat_env, table, function_env):
    function_env.set(MAX_ROOM_MEMBERS="3")
    owner = User().connect()
    room_id = make_room(owner, open_=True)
    for _ in range(2):
        assert User().connect().send("joinRoom", roomId=room_id)["type"] == "joined"
    late = User().connect()

    reply = late.send("joinRoom", roomId=room_id)

    assert reply["code"] == "FORBIDDEN" and "full" in reply["message"]
    room = table.get_item(Key={"PK": f"ROOM#{room_id}", "SK": "ROOM"})["Item"]
    assert room["memberCount"] == 3
    assert "Item" not in table.get_item(Key={"PK": f"ROOM#{room_id}", "SK": f"MEMBER#{late.user.user_id}"})


def test_a_room_of_ten_thousand_members_is_full_and_its_items_stay_small(chat_env, table, lambda_server):
    sender = User().connect()
    room_id, _ = seeded_room(sender, 10_000, online=0, open_=True)

    reply = User().connect().send("joinRoom", roomId=room_id)
    sender.send("sendMessage", roomId=room_id, content="x" * 5000)

    assert reply["code"] == "FORBIDDEN"
    for sort_key in ("ROOM", "LAST"):
        item = table.get_item(Key={"PK": f"ROOM#{room_id}", "SK": sort_key})["Item"]
        assert typed_item_size(item) < 6 * 1024, sort_key  # a 5,000-character message, whatever the room


@pytest.mark.parametrize("limit", [MAX_CONNECTIONS, 100])
def test_a_user_at_the_connection_cap_has_small_items_and_expressions(chat_env, table, function_env, limit):
    """Every expression the route and fan-out code sends, and the user's map and member items, at
    the cap; one tab's session has ended (told, then closed), another's is extended by a reauth."""
    function_env.set(MAX_CONNECTIONS_PER_USER=str(limit), SESSION_GRACE_SECONDS="0")
    alice, bob = User(), User()
    a = alice.connect()
    room_id = make_room(a, bob, open_=True)
    sent = []

    def record(request, **_):
        sent.append(json.loads(request.body))

    events = dal_client.low_level().meta.events
    events.register("before-send.dynamodb", record)
    try:
        tabs = [bob.connect() for _ in range(limit - 1)]
        ended = User(bob.user_id, bob.username, token_expires_at=int(time.time()) - 5).connect()
        sessions.extend(caller_of(tabs[2]), int(time.time()) + 3600)  # what a reauth writes
        sizes = measured_items(table, room_id, bob)
        a.send("sendMessage", roomId=room_id, content="hello", clientMessageId="limits")  # tells `ended`
        tabs[0].send("typing", roomId=room_id)  # its fan-out closes `ended` (no grace)
        tabs[0].send("leaveRoom", roomId=room_id)
        tabs[1].send("joinRoom", roomId=room_id)
        tabs[-1].disconnect()
    finally:
        events.unregister("before-send.dynamodb", record)

    assert (
        "ends"
        in table.get_item(Key={"PK": f"ROOM#{room_id}", "SK": f"MEMBER#{bob.user_id}"})["Item"]["conns"][
            tabs[2].connection_id
        ]
    )
    assert chat_env.deleted(ended.connection_id) == 1
    expressions = [
        value
        for body in sent
        for request in [body, *[next(iter(i.values())) for i in body.get("TransactItems", [])]]
        for key, value in request.items()
        if key.endswith("Expression")
    ]
    # DynamoDB allows 4 KB per expression: each names one connection at most, whatever the counts.
    assert expressions and max(len(e.encode()) for e in expressions) < 200
    assert sizes["entries"] == limit
    for name in ("user map", "member item"):  # DynamoDB allows 400 KB per item
        assert sizes[name] < (1024 if limit == MAX_CONNECTIONS else 5 * 1024), (name, sizes)
    print(f"at {limit} connections: {sizes}")  # the figures docs/DATA_MODEL.md quotes (pytest -s)


def caller_of(connection: ClientConnection) -> Caller:
    user = connection.user
    return Caller(connection.connection_id, user.user_id, user.username, user.email, user.token_expires_at)


def measured_items(table, room_id: str, user: User) -> dict[str, int]:
    """The user's map and member item, each as DynamoDB sizes it, and how many entries each holds."""
    user_map = table.get_item(Key={"PK": f"USER#{user.user_id}", "SK": "CONNS"})["Item"]
    member = table.get_item(Key={"PK": f"ROOM#{room_id}", "SK": f"MEMBER#{user.user_id}"})["Item"]
    assert len(user_map["conns"]) == len(member["conns"])
    return {
        "entries": len(member["conns"]),
        "user map": typed_item_size(user_map),
        "member item": typed_item_size(member),
    }


def test_a_connect_drops_the_expired_entries_of_its_member_items(chat_env, table):
    """Connections that ended without $disconnect, in a room nobody posts to, never pile up."""
    alice, bob = User(), User()
    a = alice.connect()
    room_id = make_room(a, bob)
    key = {"PK": f"ROOM#{room_id}", "SK": f"MEMBER#{bob.user_id}"}
    stale = {new_connection_id(): int(time.time()) - 60 for _ in range(60)}
    table.update_item(Key=key, UpdateExpression="SET conns = :c", ExpressionAttributeValues={":c": stale})

    fresh = bob.connect()

    assert set(table.get_item(Key=key)["Item"]["conns"]) == {fresh.connection_id}
