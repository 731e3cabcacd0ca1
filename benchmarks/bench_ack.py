"""The sender's ack in a 2-member room vs a 1,000-member room, on the local stack (env dev).

The local stack runs the real template: the route replies after storing the message and queueing
the fan-out (an asynchronous invocation of FanoutFunction), so the ack should not depend on the
room's size. Members are users whose ID tokens moto's key signs (`minted_users`); each connects and
joins the open room through the real WebSocket API. Sends alternate between the rooms, and each waits
until every member received the previous message, so both rooms are measured on a quiet stack.
The latency is the sender's: from sending the frame to reading its ack. All clients run in this
process (one asyncio loop), which also checks every frame against docs/asyncapi.yaml.
Ideal: the same ack in both rooms. Goal: 1,000-member p50 within 1.2x of the 2-member p50.

    python -m benchmarks ack
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

from benchmarks.local import local_stack, opened
from tests.e2e.support import ChatClient, minted_users, new_user

MEMBERS = 1000
SENDS = 9  # per room, after one warm-up send in each
JOIN_AT_ONCE = 50
GOAL_RATIO = 1.2


async def timed_send(
    sender: ChatClient, room_id: str, audience: list[ChatClient], content: str
) -> tuple[float, float]:
    """(ack latency, time until every member of `audience` had the message), in seconds."""
    started = time.perf_counter()
    ack = await sender.request("sendMessage", roomId=room_id, content=content, timeout=60)
    acked = time.perf_counter() - started
    if ack.get("type") != "ack":
        raise SystemExit(f"sendMessage in {room_id} was not acknowledged: {ack}")

    def is_it(event: dict[str, Any]) -> bool:
        return event.get("type") == "message" and event.get("seq") == ack["seq"]

    await asyncio.gather(*(client.wait_for(is_it, timeout=120) for client in audience))
    return acked, time.perf_counter() - started


async def scenario(outputs: dict[str, str]) -> dict[str, list[tuple[float, float]]]:
    owner = new_user(outputs)
    friend, *people = minted_users(owner, MEMBERS)  # the small room's friend, the big room's others
    sender = await ChatClient.open(outputs, owner.id_token)
    small = (await sender.request("createRoom", name="pair", memberIds=[friend.user_id]))["room"]["roomId"]
    big = (await sender.request("createRoom", name="town hall", open=True))["room"]["roomId"]
    started = time.perf_counter()
    members = await opened(outputs, [person.id_token for person in people])
    for start in range(0, len(members), JOIN_AT_ONCE):
        replies = await asyncio.gather(
            *(
                client.request("joinRoom", roomId=big, timeout=60)
                for client in members[start : start + JOIN_AT_ONCE]
            )
        )
        if any(reply.get("type") != "joined" for reply in replies):
            raise SystemExit(f"a join failed: {[r for r in replies if r.get('type') != 'joined'][:3]}")
    print(f"{len(members)} members connected and joined in {time.perf_counter() - started:.0f} s")
    [friend_client] = await opened(outputs, [friend.id_token])
    rooms = {"2 members": (small, [friend_client]), f"{MEMBERS:,} members": (big, members)}
    timings: dict[str, list[tuple[float, float]]] = {name: [] for name in rooms}
    for number in range(SENDS + 1):
        for name, (room_id, audience) in rooms.items():
            measured = await timed_send(sender, room_id, audience, f"message {number}")
            if number:  # the first send of each room warms its path up
                timings[name].append(measured)
    for client in [sender, friend_client, *members]:
        await client.close()
    return timings


def main() -> None:
    with local_stack("ack") as outputs:
        timings = asyncio.run(scenario(outputs))

    print(f"ack latency, {SENDS} sends per room, interleaved, each after the previous fan-out finished:")
    p50s = {}
    for name, samples in timings.items():
        acks = [ack for ack, _ in samples]
        p50s[name] = statistics.median(acks)
        p90 = statistics.quantiles(acks, n=10, method="inclusive")[-1]
        print(f"  {name:<14} p50 {p50s[name] * 1000:6.1f} ms   p90 {p90 * 1000:6.1f} ms")
    small, big = p50s.values()
    print(f"  p50 ratio      {big / small:.2f}x (goal <= {GOAL_RATIO}x)")
    reach = [everyone for _, everyone in timings[f"{MEMBERS:,} members"]]
    print(
        f"one message to all {MEMBERS - 1:,} other members: p50 {statistics.median(reach):.2f} s, "
        f"max {max(reach):.2f} s (send to the last member's receipt, as this process saw it)"
    )


if __name__ == "__main__":
    main()
