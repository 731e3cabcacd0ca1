"""A room's messages reach every connection in `seq` order on the live path, from cold workers on.

Each test runs a local stack of its own, so its first fan-outs wait for cold workers as the first
messages of a fresh deployment do (before the FIFO queue, the first messages' fan-outs arrived after
later ones: `8, 1, 9, 10, ...`). The order is the FIFO queue's, through the emulator's event source
mapping from the template, so this is the real code path.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from tests.e2e.support import ChatClient, minted_users, new_user, send_until_stored
from tests.support.local_stack import LocalAssembly, LocalStackProcess

pytestmark = pytest.mark.slow

SEQUENTIAL_SENDS = 40
SENDERS = 10
SENDS_EACH = 6


@pytest.fixture
def cold_outputs(tmp_path_factory: pytest.TempPathFactory, local_assembly: LocalAssembly) -> Iterator[dict]:
    """A local stack started for this test alone: no function has a warm worker yet."""
    process = LocalStackProcess(tmp_path_factory.mktemp("chat-order"), assembly=local_assembly(env="dev"))
    process.start()
    yield process.outputs
    process.stop()


def message_seqs(client: ChatClient, room_id: str) -> list[int]:
    return [event["seq"] for event in client.of_type("message") if event["roomId"] == room_id]


def test_forty_sequential_sends_arrive_in_order_on_every_connection(cold_outputs) -> None:
    alice, bob = new_user(cold_outputs), new_user(cold_outputs)

    async def scenario() -> None:
        a = await ChatClient.open(cold_outputs, alice.id_token)
        room_id = (await a.request("createRoom", name="order", memberIds=[bob.user_id]))["room"]["roomId"]
        tabs = [await ChatClient.open(cold_outputs, bob.id_token) for _ in range(2)]
        started = time.perf_counter()
        acked = []
        for number in range(SEQUENTIAL_SENDS):
            acked.append((await send_until_stored(a, room_id, f"m{number}"))["seq"])
        for tab in tabs:
            await tab.wait_for(lambda e: e.get("type") == "message", count=SEQUENTIAL_SENDS, timeout=60)
            assert message_seqs(tab, room_id) == acked
            assert [e["content"] for e in tab.of_type("message")] == [
                f"m{n}" for n in range(SEQUENTIAL_SENDS)
            ]
        print(f"\n{SEQUENTIAL_SENDS} sends, each after its ack, all delivered in order in "
              f"{time.perf_counter() - started:.1f} s from a cold start")  # fmt: skip
        for client in (a, *tabs):
            await client.close()

    asyncio.run(scenario())


def test_ten_concurrent_senders_are_heard_in_seq_order_by_every_member(cold_outputs) -> None:
    owner = new_user(cold_outputs)
    senders = [owner, *minted_users(owner, SENDERS - 1)]
    listener = minted_users(owner, 1)[0]

    async def scenario() -> None:
        first = await ChatClient.open(cold_outputs, owner.id_token)
        others = [person.user_id for person in (*senders[1:], listener)]
        room = await first.request("createRoom", name="crowd", memberIds=others)
        room_id = room["room"]["roomId"]
        clients = [first] + [await ChatClient.open(cold_outputs, s.id_token) for s in senders[1:]]
        listening = await ChatClient.open(cold_outputs, listener.id_token)

        async def talk(client: ChatClient, who: int) -> list[int]:
            seqs = []
            for number in range(SENDS_EACH):
                seqs.append((await send_until_stored(client, room_id, f"{who}.{number}"))["seq"])
            return seqs

        sent = await asyncio.gather(*(talk(client, who) for who, client in enumerate(clients)))
        every = sorted(seq for seqs in sent for seq in seqs)
        assert every == list(range(1, SENDERS * SENDS_EACH + 1))  # one seq per message, no gap
        await listening.wait_for(lambda e: e.get("type") == "message", count=len(every), timeout=60)
        assert message_seqs(listening, room_id) == every
        for client, own in zip(clients, sent, strict=True):
            heard = len(every) - len(own)
            await client.wait_for(lambda e: e.get("type") == "message", count=heard, timeout=60)
            assert message_seqs(client, room_id) == sorted(set(every) - set(own))
        for client in (*clients, listening):
            await client.close()

    asyncio.run(scenario())
