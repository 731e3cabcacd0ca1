"""20 clients x 20 messages in one room, all sent at once: nothing lost or duplicated, seq 1…400,
heard in seq order by every client."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.e2e.support import ChatClient, new_user, send_until_stored

pytestmark = pytest.mark.slow

CLIENTS = 20
MESSAGES = 20


def test_twenty_clients_twenty_messages_each(outputs: dict[str, str]) -> None:
    users = [new_user(outputs) for _ in range(CLIENTS)]

    async def scenario() -> None:
        clients = [await ChatClient.open(outputs, user.id_token) for user in users]
        room_id = (await clients[0].request("createRoom", name="burst", open=True))["room"]["roomId"]
        for client in clients[1:]:
            assert (await client.request("joinRoom", roomId=room_id))["type"] == "joined"
        started = time.monotonic()
        acks = await asyncio.gather(
            *(
                send_until_stored(client, room_id, f"c{index}-m{number}")
                for index, client in enumerate(clients)
                for number in range(MESSAGES)
            )
        )
        stored = time.monotonic() - started
        total = CLIENTS * MESSAGES
        assert sorted(ack["seq"] for ack in acks) == list(range(1, total + 1))
        for client in clients:
            await client.wait_for(lambda e: e.get("type") == "message", count=total - MESSAGES, timeout=120)
        delivered = time.monotonic() - started
        acks_by_client = [acks[i * MESSAGES : (i + 1) * MESSAGES] for i in range(CLIENTS)]
        for client, own in zip(clients, acks_by_client, strict=True):
            received = [event["seq"] for event in client.of_type("message")]
            assert len(received) == len(set(received)) == total - MESSAGES  # none duplicated
            assert received == sorted(received)  # in seq order, though all were sent at once
            assert sorted(received + [ack["seq"] for ack in own]) == list(range(1, total + 1))  # none lost
        history: list[int] = []
        after = 0
        while True:
            page = await clients[-1].request("getMessages", roomId=room_id, after=after, limit=100)
            history += [item["seq"] for item in page["items"]]
            if not page["hasMore"]:
                break
            after = history[-1]
        assert history == list(range(1, total + 1))
        print(
            f"\n{total} messages from {CLIENTS} clients: all stored in {stored:.1f} s, "
            f"all delivered to every client in {delivered:.1f} s"
        )
        for client in clients:
            await client.close()

    asyncio.run(scenario())
