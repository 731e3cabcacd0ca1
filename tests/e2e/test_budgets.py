"""No frame over API Gateway's 128 KB, whatever the data: long histories and long room listings page.

On the local stack, whose emulator refuses what API Gateway refuses: a route reply over 128 KB is
never delivered (the client gets `Internal server error`), an `@connections` post over it is a 413.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.e2e.support import LONG, ChatClient, new_user, rooms_with_long_last_messages

pytestmark = pytest.mark.slow

LIMIT = 128 * 1024
SENDERS = 5  # each connection's rate limit allows a burst of 10 messages


async def send_long_messages(outputs: dict[str, str], token: str, room_id: str, count: int) -> None:
    senders = [await ChatClient.open(outputs, token) for _ in range(SENDERS)]

    async def send(sender: ChatClient, numbers: range) -> None:
        for number in numbers:
            content = f"{number:02d}" + LONG[2:]
            ack = await sender.request("sendMessage", roomId=room_id, content=content)
            assert ack["type"] == "ack", ack

    share = count // SENDERS
    await asyncio.gather(*(send(s, range(i * share, (i + 1) * share)) for i, s in enumerate(senders)))
    for sender in senders:
        await sender.close()


def test_fifty_long_messages_come_in_pages_under_the_limit_each_once(outputs: dict[str, str]) -> None:
    alice, bob = new_user(outputs), new_user(outputs)

    async def scenario() -> tuple[list[dict[str, Any]], int]:
        a = await ChatClient.open(outputs, alice.id_token)
        room_id = (await a.request("createRoom", name="long", memberIds=[bob.user_id]))["room"]["roomId"]
        await send_long_messages(outputs, alice.id_token, room_id, 50)
        b = await ChatClient.open(outputs, bob.id_token)
        pages = [await b.request("getMessages", roomId=room_id)]  # limit 50: the newest page
        while pages[-1]["hasMore"]:
            pages.append(await b.request("getMessages", roomId=room_id, before=pages[-1]["items"][0]["seq"]))
        await a.close()
        await b.close()
        return pages, b.largest_frame

    pages, largest = asyncio.run(scenario())

    assert largest <= LIMIT
    assert len(pages) > 1 and all(0 < len(page["items"]) < 50 for page in pages)
    seqs = [m["seq"] for page in reversed(pages) for m in page["items"]]
    assert seqs == list(range(1, 51))
    contents = sorted(m["content"][:2] for page in pages for m in page["items"])
    assert contents == [f"{n:02d}" for n in range(50)]


def test_many_rooms_with_long_last_messages_come_in_pages_each_room_once(outputs: dict[str, str]) -> None:
    alice, bob = new_user(outputs), new_user(outputs)

    async def scenario() -> tuple[set[str], list[dict[str, Any]], int]:
        names = [f"long {i}" for i in range(12)]
        rooms = set(await rooms_with_long_last_messages(outputs, alice, bob, names))
        b = await ChatClient.open(outputs, bob.id_token)
        pages = [await b.request("listRooms")]
        while pages[-1]["cursor"] is not None:
            pages.append(await b.request("listRooms", cursor=pages[-1]["cursor"]))
        await b.close()
        return rooms, pages, b.largest_frame

    rooms, pages, largest = asyncio.run(scenario())

    assert largest <= LIMIT
    assert len(pages) > 1
    listed = [item["roomId"] for page in pages for item in page["items"]]
    assert sorted(listed) == sorted(rooms)  # each exactly once
    assert all(item["lastMessage"]["content"].endswith(LONG[2:]) for page in pages for item in page["items"])
