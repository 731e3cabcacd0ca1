"""The online index: which members of a room have a connection, read by big rooms' message fan-outs.

A global secondary index (`keys.ONLINE_INDEX`) over the member items (`ROOM#<roomId>` /
`MEMBER#<userId>`), sparse: a member item is in it while it carries `onlineKey`, which
`members.attach` sets with the connection's entry (the same atomic update that says whether the
member came online) and `members.detach` removes with the last one (`forget_if_empty`). The index
projects `userId` and `conns`, so a fan-out reads only the online members, with their entries, and
its read units follow the audience instead of the member list. The key is the room and one of
`keys.ONLINE_SHARDS` shards (a hash of the user id), so 500 `$connect`s a second into one room
spread their index writes over that many partitions, and the fan-out reads the shards in parallel.

Because the index is a view of the member items, membership needs no second check: a member who
leaves (its item deleted) leaves the index with it. Index reads are eventually consistent (a global
secondary index has no other kind): a connection attached a moment ago may miss a message posted
in that moment, as one still in its handshake does (docs/DATA_MODEL.md, "The online index").
"""

from __future__ import annotations

import queue
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from chat.dal import entries, keys
from chat.dal.client import low_level, table_name, update_if
from chat.models.domain import Member

_shards = ThreadPoolExecutor(max_workers=keys.ONLINE_SHARDS, thread_name_prefix="online")
_DONE = object()


def pages(room_id: str) -> Iterator[list[Member]]:
    """The room's online members, a Query page at a time, from every shard at once (pages arrive in
    no particular order). The members carry their user id and entries only."""
    name = table_name()  # create the client here, not racing in the threads
    arrived: queue.Queue[Any] = queue.Queue()

    def read(shard: int) -> None:
        try:
            for page in _shard_pages(name, keys.online_shard(room_id, shard)):
                arrived.put(page)
        except BaseException as exc:  # handed to the reader, which raises it
            arrived.put(exc)
        finally:
            arrived.put(_DONE)

    for shard in range(keys.ONLINE_SHARDS):
        _shards.submit(read, shard)
    running = keys.ONLINE_SHARDS
    while running:
        found = arrived.get()
        if found is _DONE:
            running -= 1
        elif isinstance(found, BaseException):
            raise found
        else:
            yield found


def _shard_pages(name: str, shard_key: str) -> Iterator[list[Member]]:
    request: dict[str, Any] = {
        "TableName": name,
        "IndexName": keys.ONLINE_INDEX,
        "KeyConditionExpression": "#k = :k",
        "ExpressionAttributeNames": {"#k": keys.ONLINE_KEY},
        "ExpressionAttributeValues": {":k": shard_key},
    }
    while True:
        result = low_level().query(**request)
        yield [_online_member(item) for item in result["Items"]]
        if "LastEvaluatedKey" not in result:
            return
        request["ExclusiveStartKey"] = result["LastEvaluatedKey"]


def forget_if_empty(room_id: str, user_id: str) -> None:
    """Take the member out of the index once its item lists no connection at all (a connection
    attached since keeps it in)."""
    update_if(
        Key=keys.room_member(room_id, user_id),
        UpdateExpression="REMOVE #k",
        ConditionExpression="attribute_exists(#k) AND size(conns) = :zero",
        ExpressionAttributeNames={"#k": keys.ONLINE_KEY},
        ExpressionAttributeValues={":zero": 0},
    )


def add_listed(room_id: str, user_id: str) -> None:
    """Put a member whose item lists connections but is not in the index (written before the index
    existed) into it; nothing if it lists none by now, or is gone."""
    update_if(
        Key=keys.room_member(room_id, user_id),
        UpdateExpression="SET #k = :k",
        ConditionExpression="attribute_not_exists(#k) AND size(conns) > :zero",
        ExpressionAttributeNames={"#k": keys.ONLINE_KEY},
        ExpressionAttributeValues={":k": keys.online_key(room_id, user_id), ":zero": 0},
    )


def _online_member(found: dict[str, Any]) -> Member:
    return Member(
        user_id=str(found["userId"]),
        display_name="",
        joined_at="",
        connections=entries.parse_map(found.get("conns")),
        indexed=True,
    )
