"""The online index (issue 23): big rooms' message fan-outs read only the members with a connection.

A room above PRESENCE_MAX_MEMBERS (2 here) fans a message out from the index, once its first message
has read the member items (the room's watermark then says `indexed`); the index follows connects,
disconnects, joins and leaves; a member listed from before the index, or left in it with no entry,
is put right by the next fan-out that reads it.
"""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from chat.dal import client as dal_client
from chat.dal import keys

from tests.chat.harness import User
from tests.chat.test_fanout import emitted_metrics, metric_total
from tests.chat.test_rooms import frames_of, make_room
from tests.support.dynamodb_faults import recorded_calls


@pytest.fixture(autouse=True)
def small_presence(chat_env, function_env):
    """Rooms of 3 or more members are big: their messages may read the online index."""
    function_env.set(PRESENCE_MAX_MEMBERS="2")


@contextmanager
def queries():
    """The Query requests the functions make inside the block: the index's shard or None (a member
    page of the room's partition)."""
    with recorded_calls(dal_client.low_level()) as calls:
        found: list[str | None] = []
        yield found
    for operation, params in calls:
        if operation == "Query":  # values as sent: typed ({"S": ...}) by the resource's client
            found.append(params["ExpressionAttributeValues"][":k"]["S"] if "IndexName" in params else None)


def member_item(table, room_id: str, user: User) -> dict:
    return table.get_item(Key={"PK": f"ROOM#{room_id}", "SK": f"MEMBER#{user.user_id}"}).get("Item")


def contents(chat_env, connection) -> list[str]:
    return [frame["content"] for frame in frames_of(chat_env, connection, "message")]


def test_a_big_rooms_messages_read_the_index_after_the_first_and_reach_every_live_connection(
    chat_env, table
) -> None:
    alice, bob, carol, dave = User(), User(), User(), User()
    a = alice.connect()
    b1, b2, c = bob.connect(), bob.connect(), carol.connect()
    room_id = make_room(a, bob, carol, dave)  # Dave never connects

    with queries() as first:
        a.send("sendMessage", roomId=room_id, content="one")
    with queries() as second:
        a.send("sendMessage", roomId=room_id, content="two")

    assert first == [None]  # the room's first message reads its member items (and indexes)
    shards = {keys.online_shard(room_id, shard) for shard in range(keys.ONLINE_SHARDS)}
    assert sorted(second) == sorted(shards)  # then every shard of the index, and nothing else
    for connection in (b1, b2, c):
        assert contents(chat_env, connection) == ["one", "two"]
    assert contents(chat_env, a) == []  # the sending connection is left out, as before
    assert table.get_item(Key={"PK": f"ROOM#{room_id}", "SK": "DELIVERED"})["Item"]["indexed"] is True


def test_a_small_rooms_messages_read_the_member_items(chat_env) -> None:
    alice, bob = User(), User()
    a, b = alice.connect(), bob.connect()
    room_id = make_room(a, bob)
    a.send("sendMessage", roomId=room_id, content="one")

    with queries() as found:
        a.send("sendMessage", roomId=room_id, content="two")

    assert found == [None]
    assert contents(chat_env, b) == ["one", "two"]


def test_the_index_follows_connects_disconnects_joins_and_leaves(chat_env, table) -> None:
    alice, bob, carol = User(), User(), User()
    a = alice.connect()
    room_id = make_room(a, bob, carol, open_=True)
    assert keys.ONLINE_KEY not in member_item(table, room_id, bob)  # offline: not in the index

    b1, b2 = bob.connect(), bob.connect()
    indexed = member_item(table, room_id, bob)
    assert indexed[keys.ONLINE_KEY] == keys.online_key(room_id, bob.user_id)
    b1.disconnect()
    assert member_item(table, room_id, bob)[keys.ONLINE_KEY] == indexed[keys.ONLINE_KEY]  # one tab left
    b2.disconnect()
    assert keys.ONLINE_KEY not in member_item(table, room_id, bob)

    dave = User()
    d = dave.connect()
    assert d.send("joinRoom", roomId=room_id)["type"] == "joined"
    assert member_item(table, room_id, dave)[keys.ONLINE_KEY] == keys.online_key(room_id, dave.user_id)
    assert d.send("leaveRoom", roomId=room_id)["type"] == "left"
    assert member_item(table, room_id, dave) is None  # out of the index with its item


def test_members_connected_before_the_index_are_indexed_by_the_rooms_next_message(chat_env, table) -> None:
    alice, bob, carol = User(), User(), User()
    a = alice.connect()
    b, c = bob.connect(), carol.connect()
    room_id = make_room(a, bob, carol)
    a.send("sendMessage", roomId=room_id, content="before the upgrade")
    # As the previous version left them: Bob's entry without the key, a watermark without `indexed`.
    member = {"PK": f"ROOM#{room_id}", "SK": f"MEMBER#{bob.user_id}"}
    table.update_item(
        Key=member, UpdateExpression="REMOVE #k", ExpressionAttributeNames={"#k": keys.ONLINE_KEY}
    )
    table.update_item(
        Key={"PK": f"ROOM#{room_id}", "SK": "DELIVERED"},
        UpdateExpression="REMOVE #i",
        ExpressionAttributeNames={"#i": "indexed"},
    )

    with queries() as upgrade:
        a.send("sendMessage", roomId=room_id, content="during")
    with queries() as after:
        a.send("sendMessage", roomId=room_id, content="after")

    assert upgrade == [None] and len(after) == keys.ONLINE_SHARDS
    assert member_item(table, room_id, bob)[keys.ONLINE_KEY] == keys.online_key(room_id, bob.user_id)
    for connection in (b, c):
        assert contents(chat_env, connection) == ["before the upgrade", "during", "after"]


def test_a_member_left_in_the_index_with_no_entry_is_taken_out_by_the_next_fanout(
    chat_env, table, capsys
) -> None:
    alice, bob, carol = User(), User(), User()
    a, b = alice.connect(), bob.connect()
    room_id = make_room(a, bob, carol)
    a.send("sendMessage", roomId=room_id, content="one")  # the room is indexed from here on
    # A $disconnect that removed Carol's last entry, then stopped before taking her out of the index.
    table.update_item(
        Key={"PK": f"ROOM#{room_id}", "SK": f"MEMBER#{carol.user_id}"},
        UpdateExpression="SET #k = :k",
        ExpressionAttributeNames={"#k": keys.ONLINE_KEY},
        ExpressionAttributeValues={":k": keys.online_key(room_id, carol.user_id)},
    )
    capsys.readouterr()

    a.send("sendMessage", roomId=room_id, content="two")

    assert keys.ONLINE_KEY not in member_item(table, room_id, carol)
    assert metric_total(emitted_metrics(capsys.readouterr().out), "OnlineIndexRepairs") == 1
    assert contents(chat_env, b) == ["one", "two"]
