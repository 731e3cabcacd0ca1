"""Connections: several per user, a client that vanishes (410 path), reconnect and resume, retries."""

from __future__ import annotations

import asyncio
import time
import urllib.request
import uuid

import pytest
from chat.logic.sessions import CONNECTING_SECONDS

from tests.e2e.support import ChatClient, items_mentioning, new_user
from tests.support.chat_table import open_for

pytestmark = pytest.mark.slow


def vanish(outputs: dict[str, str], connection_id: str) -> None:
    """The emulator's fault injection: drop the TCP connection and lose API Gateway's $disconnect."""
    base = outputs["ConnectionsEndpoint"].rsplit("/", 1)[0]
    request = urllib.request.Request(f"{base}/_emulator/connections/{connection_id}/vanish", method="POST")
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 204


def test_a_user_with_two_connections_gets_every_event_on_both(outputs: dict[str, str]) -> None:
    alice, bob = new_user(outputs), new_user(outputs)

    async def scenario() -> None:
        phone = await ChatClient.open(outputs, alice.id_token)
        laptop = await ChatClient.open(outputs, alice.id_token)
        b = await ChatClient.open(outputs, bob.id_token)
        room_id = (await b.request("createRoom", name="pair", memberIds=[alice.user_id]))["room"]["roomId"]
        await b.request("sendMessage", roomId=room_id, content="to both")
        await b.request("markRead", roomId=room_id, seq=1)
        await b.notify("typing", roomId=room_id)
        for device in (phone, laptop):
            for kind in ("room", "message", "typing"):
                await device.wait_for(lambda e, kind=kind: e.get("type") == kind)
        # Alice's own message from the phone reaches her laptop (and Bob), not the phone itself.
        await phone.request("sendMessage", roomId=room_id, content="from my phone")
        (echoed,) = await laptop.wait_for(lambda e: e.get("content") == "from my phone")
        assert echoed["senderId"] == alice.user_id
        await b.wait_for(lambda e: e.get("content") == "from my phone")
        assert not [e for e in phone.events if e.get("content") == "from my phone"]
        for client in (phone, laptop, b):
            await client.close()

    asyncio.run(scenario())


def test_a_vanished_client_is_cleaned_up_by_the_next_fan_out(outputs: dict[str, str]) -> None:
    alice, bob = new_user(outputs), new_user(outputs)

    async def scenario() -> str:
        a = await ChatClient.open(outputs, alice.id_token)
        b = await ChatClient.open(outputs, bob.id_token)
        room_id = (await a.request("createRoom", name="ghosts", memberIds=[bob.user_id]))["room"]["roomId"]
        gone_id = (await b.request("whoami"))["connectionId"]
        assert items_mentioning(outputs, gone_id), "the connection is recorded while it is open"
        # A minute later (a 410 within 30 s of a $connect proves nothing: it may be still connecting),
        open_for(outputs["DynamoDBEndpoint"], outputs["TableName"], gone_id, CONNECTING_SECONDS)
        # Bob's network drops: no close frame, and API Gateway's best-effort $disconnect is lost.
        vanish(outputs, gone_id)
        await asyncio.sleep(0.5)
        assert items_mentioning(outputs, gone_id), "nothing has noticed yet"
        # The next fan-out to Bob gets 410 Gone for that connection and removes its records.
        ack = await a.request("sendMessage", roomId=room_id, content="anyone?")
        assert ack["type"] == "ack"
        await a.close()
        return gone_id

    gone_id = asyncio.run(scenario())
    deadline = time.monotonic() + 10
    while items_mentioning(outputs, gone_id) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert items_mentioning(outputs, gone_id) == []


def test_reconnect_and_resume_with_get_messages_after(outputs: dict[str, str]) -> None:
    alice, bob = new_user(outputs), new_user(outputs)

    async def scenario() -> None:
        a = await ChatClient.open(outputs, alice.id_token)
        b = await ChatClient.open(outputs, bob.id_token)
        room_id = (await a.request("createRoom", name="resume", memberIds=[bob.user_id]))["room"]["roomId"]
        await a.request("sendMessage", roomId=room_id, content="before")
        (seen,) = await b.wait_for(lambda e: e.get("type") == "message")
        await b.close()  # Bob goes offline ...
        for text in ("while away 1", "while away 2"):
            await a.request("sendMessage", roomId=room_id, content=text)
        b = await ChatClient.open(outputs, bob.id_token)  # ... and comes back
        missed = await b.request("getMessages", roomId=room_id, after=seen["seq"])
        assert [m["content"] for m in missed["items"]] == ["while away 1", "while away 2"]
        assert [m["seq"] for m in missed["items"]] == [seen["seq"] + 1, seen["seq"] + 2]
        assert missed["hasMore"] is False
        await a.request("sendMessage", roomId=room_id, content="live again")
        await b.wait_for(lambda e: e.get("content") == "live again")
        await a.close()
        await b.close()

    asyncio.run(scenario())


def test_a_retried_send_is_stored_once_and_delivered_once(outputs: dict[str, str]) -> None:
    """The retry gets the stored ack and queues the delivery again; the room's delivery watermark
    (or the queue's deduplication id) drops it, since the first one was delivered."""
    alice, bob = new_user(outputs), new_user(outputs)

    async def scenario() -> None:
        a = await ChatClient.open(outputs, alice.id_token)
        b = await ChatClient.open(outputs, bob.id_token)
        room_id = (await a.request("createRoom", name="retry", memberIds=[bob.user_id]))["room"]["roomId"]
        client_message_id = str(uuid.uuid4())
        first = await a.request(
            "sendMessage", roomId=room_id, content="once", clientMessageId=client_message_id
        )
        retry = await a.request(
            "sendMessage", roomId=room_id, content="once", clientMessageId=client_message_id
        )
        assert {k: first[k] for k in ("messageId", "seq", "createdAt")} == {
            k: retry[k] for k in ("messageId", "seq", "createdAt")
        }
        assert retry["clientMessageId"] == client_message_id
        await b.wait_for(lambda e: e.get("type") == "message")
        await asyncio.sleep(1.0)  # time for a second copy, were one posted
        assert [m["messageId"] for m in b.of_type("message")] == [first["messageId"]]
        history = await b.request("getMessages", roomId=room_id)
        assert [m["content"] for m in history["items"]] == ["once"]
        await a.close()
        await b.close()

    asyncio.run(scenario())
