"""How fast one room delivers its messages, and whether in `seq` order, on the local stack.

``SENDERS`` people each send as fast as their connection's rate limit lets them (5 a second as
shipped; a `RATE_LIMITED` reply is retried with the same `clientMessageId`, as clients do) into one
room for ``SECONDS``, so the room is offered about 50 messages a second: more than one room
sustains in order here. Every other connection of the room (``LISTENERS`` more people) records each
`message` frame's arrival. Printed per room: the rate the sends were acked at, the rate the last
listener heard them at (the room's in-order throughput when it is below the offered rate), the lag
from a message's ack to its arrival (p50, p99), and the frames that arrived after a higher seq.

    python -m benchmarks order
"""

from __future__ import annotations

import asyncio
import statistics
import time

from benchmarks.local import local_stack, opened
from tests.e2e.support import ChatClient, minted_users, new_user, send_until_stored

SENDERS = 10
SECONDS = 10.0
ROOMS = (("small room", 2), ("room of 300", 290))  # (name, listeners beside the senders)


def _pct(samples: list[float], percent: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[percent - 1]


def late_frames(seqs: list[int]) -> int:
    """Frames that arrived after a higher seq had."""
    highest, late = 0, 0
    for seq in seqs:
        late += seq < highest
        highest = max(highest, seq)
    return late


async def room(outputs: dict[str, str], name: str, listeners: int) -> None:
    owner = new_user(outputs)
    people = [owner, *minted_users(owner, SENDERS - 1 + listeners)]
    clients = await opened(outputs, [person.id_token for person in people])
    room_id = (await clients[0].request("createRoom", name=name, open=True))["room"]["roomId"]
    for start in range(1, len(clients), 50):
        replies = await asyncio.gather(
            *(
                client.request("joinRoom", roomId=room_id, timeout=60)
                for client in clients[start : start + 50]
            )
        )
        if any(reply.get("type") != "joined" for reply in replies):
            raise SystemExit(f"a join failed: {replies}")
    senders, audience = clients[:SENDERS], clients[SENDERS:]
    await send_until_stored(senders[0], room_id, "warm-up")  # the workers start cold, as Lambda's do
    await asyncio.sleep(2)
    acked_at: dict[int, float] = {}
    deadline = time.perf_counter() + SECONDS

    async def talk(client: ChatClient) -> None:
        number = 0
        while time.perf_counter() < deadline:
            ack = await send_until_stored(client, room_id, f"{name} {number}")
            acked_at[ack["seq"]] = time.perf_counter()
            number += 1

    started = time.perf_counter()
    await asyncio.gather(*(talk(client) for client in senders))
    acked_in = time.perf_counter() - started
    wanted = set(acked_at)
    last = audience[-1]
    while time.perf_counter() - started < 180:
        heard = {e["seq"] for e in last.of_type("message") if e["roomId"] == room_id}
        if wanted <= heard:
            break
        await asyncio.sleep(0.05)
    arrivals = [
        at
        for event, at in zip(last.events, last.arrived_at, strict=True)
        if event.get("type") == "message" and event["seq"] in wanted
    ]
    heard_in = max(arrivals) - started
    lags = [
        at - acked_at[event["seq"]]
        for client in audience
        for event, at in zip(client.events, client.arrived_at, strict=True)
        if event.get("type") == "message" and event["seq"] in wanted
    ]
    late = sum(
        late_frames([e["seq"] for e in client.of_type("message") if e["seq"] in wanted]) for client in clients
    )
    print(
        f"{name} ({len(clients)} connections): {len(wanted)} messages acked at "
        f"{len(wanted) / acked_in:.1f}/s, heard by the last listener at {len(wanted) / heard_in:.1f}/s; "
        f"lag after the ack p50 {statistics.median(lags):.2f} s, p99 {_pct(lags, 99):.2f} s; "
        f"frames after a higher seq: {late}"
    )
    for client in clients:
        await client.close()


def main() -> None:
    with local_stack("order") as outputs:
        for name, listeners in ROOMS:
            asyncio.run(room(outputs, name, listeners))


if __name__ == "__main__":
    main()
