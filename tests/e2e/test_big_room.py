"""A room of 1,000 members on the local stack: every member gets the message, in seq order, the
ack does not wait, and a member who goes offline gets nothing more while one who comes online gets
the very next message.

The members' tokens are signed by moto's key (`minted_users`); each member connects and joins the
open room through the real WebSocket API. The fan-out splits into batches of FANOUT_BATCH_SIZE
that FanoutFunction posts in parallel invocations. The sender's acks are timed in the big room and
in a 2-member room, the sends alternating between the rooms and each after the previous fan-out has
finished, so both rooms' acks are measured under the same load (the suite's other worker runs beside
this test): the ack's route does the same work whatever the room's size.

The room has more members than `presence_max_members`, so its messages' fan-outs read the room's
online index (lambdas/chat/dal/online.py) instead of its member items: after the burst, one member
closes its connection and, once its `$disconnect` has run, the next message reaches every other
member and is posted to no other connection (the FanoutFunction's `fan-out` log lines, read from the
local stack's log); the same user connects again and gets the message sent right after its handshake.

The room runs on a local stack of its own, stopped at the end with its members still connected: the
suite's shared stack never has to work through a thousand `$disconnect`s (30 s of a worker's time).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from chat.dal import keys

from tests.e2e.support import ChatClient, minted_users, new_user, send_until_stored
from tests.support.local_stack import LocalAssembly, LocalStackProcess

pytestmark = pytest.mark.slow

# Ten times presence_max_members and two batches of the fan-out (dev: 500 a batch), filled in about a minute.
MEMBERS = 1000
SENDS = 5
BURST = 5
# After every member got a message, the fan-out's last workers are still finishing; wait as long
# before the next send in either room, so that each ack is measured on a quiet machine.
QUIET_SECONDS = 0.5


@pytest.fixture
def big_stack(
    tmp_path_factory: pytest.TempPathFactory, local_assembly: LocalAssembly
) -> Iterator[LocalStackProcess]:
    """A local stack for this test alone (the dev environment, as the shared one)."""
    process = LocalStackProcess(tmp_path_factory.mktemp("chat-big-room"), assembly=local_assembly(env="dev"))
    process.start()
    yield process
    process.stop()


async def opened(outputs: dict[str, str], tokens: list[str], at_once: int = 100) -> list[ChatClient]:
    clients: list[ChatClient] = []
    for start in range(0, len(tokens), at_once):
        chunk = tokens[start : start + at_once]
        # A fresh stack's first hundred handshakes start its workers: on a busy machine that is
        # more than the client's default 10 s (what this test times is the ack, not the handshake).
        clients += await asyncio.gather(
            *(ChatClient.open(outputs, token, open_timeout=60) for token in chunk)
        )
    return clients


async def timed_ack(sender: ChatClient, room_id: str, number: int, audience: list[ChatClient]) -> float:
    """The ack latency of one send; returns once every member got it (and the stack is quiet)."""
    started = time.perf_counter()
    ack = await sender.request("sendMessage", roomId=room_id, content=f"m{number}", timeout=60)
    latency = time.perf_counter() - started
    assert ack["type"] == "ack", ack
    await asyncio.gather(
        *(
            client.wait_for(lambda e, s=ack["seq"]: e.get("type") == "message" and e["seq"] == s, timeout=120)
            for client in audience
        )
    )
    await asyncio.sleep(QUIET_SECONDS)
    return latency


async def members_online(client: ChatClient, room_id: str) -> int:
    listed = await client.request("listRooms")
    return next(item["onlineCount"] for item in listed["items"] if item["roomId"] == room_id)


def room_posts(log: Path, offset: int, room_id: str) -> dict[str, int]:
    """The totals of the FanoutFunction's `fan-out` log lines (one per batch it posted) for the room's
    messages, in the local stack's log after `offset`: connections posted to (`audience`), and how
    each post was answered (`gone`: 410, the emulator knows no such connection)."""
    with log.open("rb") as file:
        file.seek(offset)
        text = file.read().decode(errors="replace")
    totals = dict.fromkeys(("audience", "delivered", "gone", "failed"), 0)
    for line in text[: text.rfind("\n") + 1].splitlines():  # whole lines only: one may be half written
        if '"message":"fan-out"' not in line:
            continue
        record: dict[str, Any] = json.loads(line[line.index("{") :])
        if record.get("room_id") == room_id and record.get("frame_type") == "message":
            for name in totals:
                totals[name] += record[name]
    return totals


async def posts_once_delivered(log: Path, offset: int, room_id: str, delivered: int) -> dict[str, int]:
    """`room_posts` once they count `delivered` posts (a worker's log reaches the file a moment after
    its posts), or after 10 s."""
    deadline = time.monotonic() + 10
    while True:
        totals = room_posts(log, offset, room_id)
        if totals["delivered"] >= delivered or time.monotonic() > deadline:
            return totals
        await asyncio.sleep(0.1)


def test_a_message_reaches_1000_members_fast_and_follows_them_online_and_offline(
    big_stack: LocalStackProcess,
) -> None:
    chat_stack, outputs = big_stack, big_stack.outputs
    owner = new_user(outputs)
    people = minted_users(owner, MEMBERS - 1)
    friend = minted_users(owner, 1)[0]

    async def scenario() -> None:
        started = time.perf_counter()
        sender = await ChatClient.open(outputs, owner.id_token)
        big = (await sender.request("createRoom", name="town hall", open=True))["room"]["roomId"]
        small = (await sender.request("createRoom", name="pair", memberIds=[friend.user_id]))["room"][
            "roomId"
        ]
        members = await opened(outputs, [person.id_token for person in people])
        for start in range(0, len(members), 50):
            replies = await asyncio.gather(
                *(
                    client.request("joinRoom", roomId=big, timeout=60)
                    for client in members[start : start + 50]
                )
            )
            assert all(reply["type"] == "joined" for reply in replies), replies
        [friend_client] = await opened(outputs, [friend.id_token])
        joined_in = time.perf_counter() - started
        listed = await sender.request("listRooms")
        [town] = [item for item in listed["items"] if item["roomId"] == big]
        assert town["memberCount"] == MEMBERS

        small_acks, big_acks, big_rounds = [], [], []
        for number in range(SENDS):
            small_acks.append(await timed_ack(sender, small, number, [friend_client]))
            started = time.perf_counter()
            big_acks.append(await timed_ack(sender, big, number, members))
            big_rounds.append(time.perf_counter() - started - QUIET_SECONDS)
        fanout_seconds = statistics.mean(big_rounds)

        for client in members:
            assert [e["content"] for e in client.of_type("message")] == [f"m{n}" for n in range(SENDS)]
        # A burst, sent at once: each message's batches run in parallel, yet no batch of message n+1
        # reaches a member before message n's does.
        burst = await asyncio.gather(*(send_until_stored(sender, big, f"burst {n}") for n in range(BURST)))
        burst_seqs = sorted(ack["seq"] for ack in burst)
        for client in members:
            await client.wait_for(
                lambda e, last=burst_seqs[-1]: e.get("type") == "message" and e["seq"] == last, timeout=120
            )
            assert [e["seq"] for e in client.of_type("message")][SENDS:] == burst_seqs
        small_p50, big_p50 = statistics.median(small_acks), statistics.median(big_acks)
        print(
            f"\nack p50: {small_p50 * 1000:.1f} ms in a 2-member room, {big_p50 * 1000:.1f} ms in a "
            f"{MEMBERS}-member room ({big_p50 / small_p50:.2f}x); a message reached all {MEMBERS} members "
            f"in {fanout_seconds:.2f} s (the room was filled in {joined_in:.0f} s)"
        )
        # Not slower: the same route work whatever the room (the margin absorbs this machine's noise).
        assert big_p50 <= small_p50 * 1.5 + 0.015

        # Offline, then online again: the fan-out reads the online index, which a member's item leaves
        # with its last connection's `$disconnect` and enters with the `$connect` of a new one.
        await asyncio.sleep(QUIET_SECONDS)  # the burst's last fan-out lines are logged
        phase = time.perf_counter()
        leaver, others = members[0], members[1:]
        assert await members_online(sender, big) == MEMBERS
        await leaver.close()
        deadline = time.monotonic() + 30
        while (await members_online(sender, big)) > MEMBERS - 1:  # its $disconnect has run
            assert time.monotonic() < deadline, "the leaver's $disconnect did not run"
            await asyncio.sleep(0.1)
        table = boto3.resource(
            "dynamodb", endpoint_url=outputs["DynamoDBEndpoint"], region_name=outputs["Region"]
        ).Table(outputs["TableName"])
        left = table.get_item(Key=keys.room_member(big, people[0].user_id), ConsistentRead=True)["Item"]
        assert keys.ONLINE_KEY not in left and not left.get("conns"), left  # out of the index
        offset = chat_stack.log_path.stat().st_size
        after_leaving = await send_until_stored(sender, big, "one member fewer")
        await asyncio.gather(
            *(
                client.wait_for(
                    lambda e, s=after_leaving["seq"]: e.get("type") == "message" and e["seq"] == s, timeout=60
                )
                for client in others
            )
        )
        # The member comes online: the message sent as soon as its handshake is done reaches it.
        back = await ChatClient.open(outputs, people[0].id_token)
        after_return = await send_until_stored(sender, big, "one member back")
        await asyncio.gather(
            *(
                client.wait_for(
                    lambda e, s=after_return["seq"]: e.get("type") == "message" and e["seq"] == s, timeout=60
                )
                for client in [back, *others]
            )
        )
        assert [e["seq"] for e in back.of_type("message")] == [after_return["seq"]]
        # And the departed connection was posted nothing. The observable is the fan-out's own count
        # of its posts, whatever the client side sees (a closed client reads nothing either way): had
        # the index still listed the member with its connection, the first message would have been
        # posted to that connection too, which the emulator answers 410 (it forgot the connection as
        # its socket closed), so `audience` would count one more and `gone` one. The two messages'
        # lines are read together: the room's jobs run in order, so the first one's are all logged
        # before the second one reaches anybody, and none is left out of the totals.
        expected = len(others) + len(others) + 1
        posts = await posts_once_delivered(chat_stack.log_path, offset, big, expected)
        assert posts == {"audience": expected, "delivered": expected, "gone": 0, "failed": 0}, posts
        print(
            f"a member went offline and came back, a message each way, in {time.perf_counter() - phase:.1f} s"
        )

    asyncio.run(scenario())
