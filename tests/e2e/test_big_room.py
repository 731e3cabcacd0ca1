"""A room of 1,500 members on the local stack: every member gets the message, in seq order, and the
ack does not wait.

The members' tokens are signed by moto's key (`minted_users`); each member connects and joins the
open room through the real WebSocket API. The fan-out splits into batches of FANOUT_BATCH_SIZE
that FanoutFunction posts in parallel invocations. The sender's acks are timed in the big room and
in a 2-member room, the sends alternating between the rooms and each after the previous fan-out has
finished, so both rooms' acks are measured under the same load (the suite's other worker runs beside
this test): the ack's route does the same work whatever the room's size.
"""

from __future__ import annotations

import asyncio
import statistics
import time

import pytest

from tests.e2e.support import ChatClient, minted_users, new_user, send_until_stored

pytestmark = pytest.mark.slow

MEMBERS = 1500
SENDS = 7
BURST = 5
# After every member got a message, the fan-out's last workers are still finishing; wait as long
# before the next send in either room, so that each ack is measured on a quiet machine.
QUIET_SECONDS = 0.5


async def opened(outputs: dict[str, str], tokens: list[str], at_once: int = 100) -> list[ChatClient]:
    clients: list[ChatClient] = []
    for start in range(0, len(tokens), at_once):
        chunk = tokens[start : start + at_once]
        clients += await asyncio.gather(*(ChatClient.open(outputs, token) for token in chunk))
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


def test_a_message_reaches_1500_members_and_the_ack_is_as_fast_as_in_a_small_room(outputs) -> None:
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
        closing = time.perf_counter()
        for start in range(0, len(members), 100):
            await asyncio.gather(*(client.close() for client in members[start : start + 100]))
        # Leave the stack as quiet as it was: wait until every member's $disconnect has run.
        deadline = time.monotonic() + 180
        while (await members_online(sender, big)) > 1:
            assert time.monotonic() < deadline, "the members' $disconnect did not all run"
            await asyncio.sleep(1.0)
        print(f"the members closed: their $disconnects ran in {time.perf_counter() - closing:.0f} s")
        for client in (sender, friend_client):
            await client.close()

    asyncio.run(scenario())
