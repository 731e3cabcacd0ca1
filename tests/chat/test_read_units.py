"""The read units of one message's fan-out follow the live audience, not the member list (issue 23).

Read units by DynamoDB's documented rules (`tests/support/read_units.py`: 4 KB units, strongly
consistent 1, eventually consistent 0.5, a Query summing its items before rounding). Each room is
seeded through the data-access layer in a table of its own (moto Queries an index by walking its
table), its first message already fanned out (its watermark says `indexed`); then 1%, 10% and 100%
of its members have one live connection each, written as `$connect` writes it.

A message's fan-out reads the room's watermark (one `GetItem`) and its audience, nothing else
(`test_a_big_rooms_fanout_reads_its_watermark_and_the_index_shards_only` meters the whole fan-out
of a real send to show it). The matrix then meters those reads at 2, 1,000 and 10,000 members with
1%, 10% and 100% online, by the path the fan-out takes now (the online index above
PRESENCE_MAX_MEMBERS, the member items below) and by the one every room took before (every member
item, strongly consistent), without posting the frames.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Callable, Iterator

import boto3
import pytest
from botocore.config import Config
from chat.dal import client as dal_client
from chat.dal import delivery, keys, members, online
from chat.dal.delivery import Watermark
from chat.logic.fanout_job import MEMBER_PAGE
from chat.models.domain import ConnectionEntry, Member

from tests.chat.baseline import BASELINE
from tests.chat.harness import User, new_connection_id
from tests.chat.test_request_counts import seeded_room
from tests.support.chat_table import create_table, dynamodb
from tests.support.read_units import ReadRecord, metered_reads

pytestmark = pytest.mark.slow

PRESENCE_MAX_MEMBERS = int(BASELINE["PRESENCE_MAX_MEMBERS"])
GOAL_AT_10000_WITH_100_ONLINE = 12.0
SIZES = [2, 1000, 10_000]
SHARES = [0.01, 0.10, 1.0]


@pytest.fixture
def own_table(moto_server, function_env, monkeypatch) -> Iterator[Callable[[], None]]:
    """Call it to move the functions to a new table of their own (each dropped after the test).

    The functions' client waits longer for an answer here than on AWS: moto answers a 10,000-item
    Query in seconds on a busy 2-core machine, past the 5 s the product allows DynamoDB."""
    patient = boto3.resource("dynamodb", config=Config(read_timeout=60, retries={"mode": "standard"}))
    monkeypatch.setattr(dal_client, "_resource", patient)
    names: list[str] = []

    def use_new() -> None:
        names.append(f"chat-reads-{uuid.uuid4().hex[:12]}")
        create_table(moto_server.endpoint, names[-1])
        function_env.set(TABLE_NAME=names[-1])

    yield use_new
    for name in names:
        dynamodb(moto_server.endpoint).delete_table(TableName=name)


def indexed_room(size: int) -> tuple[str, list[Member]]:
    """A room of `size` members, only its sender connected, its first message fanned out; and the
    other members."""
    sender = User().connect()
    room_id, others = seeded_room(sender, size, online=0)
    delivery.put(Watermark(room_id, 1, indexed=True))
    return room_id, others


def connect(room_id: str, offline: list[Member]) -> None:
    """Give each of these members one live connection, as their `$connect` writes it."""
    now = int(time.time())
    entry = ConnectionEntry(now + 3600, now + 3600)
    online_now = [dataclasses.replace(member, connections={new_connection_id(): entry}) for member in offline]
    dal_client.batch_put([members.member_item(room_id, member) for member in online_now])


def fanout_reads(room_id: str, *, index: bool) -> ReadRecord:
    """The reads of one message's fan-out: the watermark, then the audience, as fanout_job reads it."""
    with metered_reads(dal_client.low_level()) as record:
        delivery.get(room_id)
        audience = online.pages(room_id) if index else members.pages(room_id, MEMBER_PAGE)
        for _ in audience:
            pass
    return record


def test_a_big_rooms_fanout_reads_its_watermark_and_the_index_shards_only(own_table) -> None:
    own_table()
    sender = User().connect()
    room_id, others = seeded_room(sender, 1000, online=99)
    sender.send("sendMessage", roomId=room_id, content="first")  # reads the member items, indexes

    with metered_reads(dal_client.low_level()) as whole:  # the route's reads, then its fan-out's
        ack = sender.send("sendMessage", roomId=room_id, content="second")

    assert ack["type"] == "ack" and sum(len(member.connections) for member in others) == 99
    route, *fanout = whole.requests
    assert (route.operation, route.consistent) == ("BatchGetItem", True)  # the membership
    assert [(r.operation, r.index, r.consistent) for r in fanout] == [("GetItem", None, True)] + [
        ("Query", keys.ONLINE_INDEX, False)
    ] * keys.ONLINE_SHARDS
    assert sum(r.units for r in fanout) == fanout_reads(room_id, index=True).total


@pytest.mark.parametrize("size", SIZES)
def test_read_units_per_message_follow_the_online_members(own_table, size: int, capsys) -> None:
    figures = []
    own_table()
    room_id, others = indexed_room(size)
    online_members = 1  # the sender
    for share in SHARES:  # one room, more of it online at each step
        wanted = max(1, round(size * share))
        connect(room_id, others[online_members - 1 : wanted - 1])
        online_members = wanted
        big = size > PRESENCE_MAX_MEMBERS
        now, before = fanout_reads(room_id, index=big), fanout_reads(room_id, index=False)
        figures.append((share, online_members, now, before))

        assert now.total <= before.total  # never worse than reading every member item
        if big:
            queries = now.of("Query")
            assert len(queries) == keys.ONLINE_SHARDS and {q.index for q in queries} == {keys.ONLINE_INDEX}
            assert sum(len(q.item_sizes) for q in queries) == online_members  # the audience, no more
        if size == 10_000 and online_members == 100:
            assert now.total <= GOAL_AT_10000_WITH_100_ONLINE
    with capsys.disabled():
        for share, online_members, now, before in figures:
            print(
                f"\n{size:>6} members, {share:>4.0%} online ({online_members:>6}): {now.total:7.1f} read "
                f"units in {len(now.requests)} requests (every member item: {before.total:7.1f} in "
                f"{len(before.requests)})",
                end="",
            )
