"""A team on the local stack: 40 people in one open room, ~6 messages per second, for 30 s.

Each person keeps one connection and opens and closes two more tabs now and then (about 5
`$connect`s and 5 `$disconnect`s a second in all, each writing the room's member item), while sends
come at random moments from random people, about ``RATE`` per second in all. For every message and
every connection, the lag is from the sender reading its `ack` to that connection reading the
`message` frame (one process, one clock). The local stack should keep up: p99 within ``GOAL_P99`` s, and the
fan-out's backlog (messages acked but not yet everywhere) bounded when the sends stop.

Then 1,500 connections close at once, and one new connection opens: how long its handshake waits
behind the 1,500 `$disconnect`s.

    python -m benchmarks team
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time

from benchmarks.local import local_stack, opened
from tests.e2e.support import ChatClient, User, minted_users, new_user

PEOPLE = 40
TAB_SECONDS = 8.0  # a tab stays closed, then open, this long on average
EXTRA_TABS = 2  # per person: up to three connections each
RATE = 6.0  # messages per second, the whole room
SECONDS = 30.0
GOAL_P99 = 2.0
LEAVING = 1500


def _pct(samples: list[float], percent: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[percent - 1]


async def team(outputs: dict[str, str]) -> None:
    owner = new_user(outputs)
    people = [owner, *minted_users(owner, PEOPLE - 1)]
    clients = await opened(outputs, [person.id_token for person in people])
    room = (await clients[0].request("createRoom", name="team", open=True))["room"]["roomId"]
    for client in clients[1:]:
        reply = await client.request("joinRoom", roomId=room, timeout=60)
        if reply.get("type") != "joined":
            raise SystemExit(f"a join failed: {reply}")
    warm_up = [client.request("sendMessage", roomId=room, content="hi", timeout=60) for client in clients[:8]]
    await asyncio.gather(*warm_up)  # the send route's workers start cold, as Lambda's do
    await asyncio.sleep(2)  # the joins' presence fan-outs and the warm-up's
    acked_at: dict[int, float] = {}
    sender_of: dict[int, ChatClient] = {}
    ack_latency: list[float] = []
    tabs_opened = 0
    deadline = time.perf_counter() + SECONDS

    async def send(client: ChatClient, number: int) -> None:
        started = time.perf_counter()
        reply = await client.request("sendMessage", roomId=room, content=f"m{number}", timeout=60)
        if reply.get("type") != "ack":
            raise SystemExit(f"a send was refused: {reply}")
        acked_at[reply["seq"]] = time.perf_counter()
        ack_latency.append(acked_at[reply["seq"]] - started)
        sender_of[reply["seq"]] = client

    async def talk() -> float:
        sends = []
        while time.perf_counter() < deadline:
            await asyncio.sleep(random.expovariate(RATE))
            sends.append(asyncio.create_task(send(random.choice(clients), len(sends))))
        await asyncio.gather(*sends)
        return time.perf_counter() - started

    async def open_and_close_tabs(person: User) -> None:
        nonlocal tabs_opened
        while time.perf_counter() < deadline:
            await asyncio.sleep(random.expovariate(1 / TAB_SECONDS))
            tab = await ChatClient.open(outputs, person.id_token)
            tabs_opened += 1
            await asyncio.sleep(random.expovariate(1 / TAB_SECONDS))
            await tab.close()

    started = time.perf_counter()
    sent, *_ = await asyncio.gather(talk(), *(open_and_close_tabs(p) for p in people * EXTRA_TABS))
    total = len(acked_at)

    def has_all(client: ChatClient) -> bool:
        own = sum(1 for sender in sender_of.values() if sender is client)
        heard = {event["seq"] for event in client.of_type("message")} & acked_at.keys()
        return len(heard) >= total - own

    drain_started = time.perf_counter()
    while not all(has_all(client) for client in clients) and time.perf_counter() - drain_started < 120:
        await asyncio.sleep(0.1)
    drained = time.perf_counter() - drain_started
    lags = [
        arrived - acked_at[event["seq"]]
        for client in clients
        for event, arrived in zip(client.events, client.arrived_at, strict=True)
        if event.get("type") == "message" and event["seq"] in acked_at
    ]
    print(
        f"{PEOPLE} people, each with one lasting connection and tabs opened and closed "
        f"({tabs_opened} tabs in all); {total} messages in {sent:.0f} s ({total / sent:.1f}/s); "
        f"every message everywhere {drained:.1f} s after the last ack"
    )
    ack_p50, ack_p99 = statistics.median(ack_latency), _pct(ack_latency, 99)
    print(f"  ack: p50 {ack_p50 * 1000:.0f} ms, p99 {ack_p99 * 1000:.0f} ms")
    print(
        f"  delivery after the ack: p50 {statistics.median(lags):.2f} s, p99 {_pct(lags, 99):.2f} s, "
        f"max {max(lags):.2f} s over {len(lags)} deliveries (goal p99 <= {GOAL_P99} s)"
    )
    for client in clients:
        await client.close()


async def exodus(outputs: dict[str, str]) -> None:
    owner = new_user(outputs)
    leaving = await opened(outputs, [user.id_token for user in minted_users(owner, LEAVING)])
    await asyncio.sleep(1)
    started = time.perf_counter()
    await asyncio.gather(*(client.close() for client in leaving))
    closed = time.perf_counter() - started
    newcomer = await ChatClient.open(outputs, owner.id_token)
    waited = time.perf_counter() - started - closed
    print(
        f"{LEAVING:,} connections closed in {closed:.1f} s; the next handshake took {waited:.2f} s "
        "(behind their $disconnects)"
    )
    await newcomer.close()


def main() -> None:
    with local_stack("team") as outputs:
        asyncio.run(team(outputs))
        asyncio.run(exodus(outputs))


if __name__ == "__main__":
    main()
