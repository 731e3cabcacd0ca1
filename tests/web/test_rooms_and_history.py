"""The rooms list (unread counts, rooms others add you to) and paging back through history."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.support import PASSWORD, ChatClient, User, new_user, rooms_with_long_last_messages
from tests.web.pages import ChatPage

pytestmark = pytest.mark.slow

SEEDED = 55  # more than one page (the page loads 50 at a time)
T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Runs WebSocket clients beside Playwright (whose sync API holds this thread's event loop)."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


async def seed_room(outputs: dict[str, str], owner: User, member: User, name: str) -> str:
    """A closed room of `owner` listing `member`, with SEEDED messages m01..m55 (6 connections: the
    per-connection send rate allows a burst of 10)."""
    clients = [await ChatClient.open(outputs, owner.id_token) for _ in range(6)]
    try:
        reply = await clients[0].request("createRoom", name=name, memberIds=[member.user_id])
        room_id = reply["room"]["roomId"]
        for number in range(1, SEEDED + 1):
            client = clients[(number - 1) // 10]
            ack = await client.request("sendMessage", roomId=room_id, content=f"m{number:02d}")
            assert ack["type"] == "ack", ack
        return room_id
    finally:
        for client in clients:
            await client.close()


async def send(outputs: dict[str, str], user: User, room_id: str, *contents: str) -> None:
    client = await ChatClient.open(outputs, user.id_token)
    try:
        for content in contents:
            assert (await client.request("sendMessage", roomId=room_id, content=content))["type"] == "ack"
    finally:
        await client.close()


async def create_room(outputs: dict[str, str], user: User, name: str, **fields: Any) -> str:
    client = await ChatClient.open(outputs, user.id_token)
    try:
        return (await client.request("createRoom", name=name, **fields))["room"]["roomId"]
    finally:
        await client.close()


def test_unread_counts_history_paging_and_rooms_added_live(browser: Browser, outputs: dict[str, str]) -> None:
    carol, dave = new_user(outputs), new_user(outputs)
    history = f"history-{uuid.uuid4().hex[:6]}"
    room_id = run(seed_room(outputs, dave, carol, history))

    # Carol signs in: the room Dave put her in is listed with its unread count
    context = browser.new_context()
    chat = ChatPage.open(context, outputs["WebAppUrl"])
    chat.sign_in(carol.username, PASSWORD)
    expect(chat.unread(history)).to_have_text(str(SEEDED))
    expect(chat.unread(history)).to_have_attribute("aria-label", f"{SEEDED} unread")

    # Opening it shows the newest page, marks it read, and pages back to the first message
    chat.open_room(history)
    contents = chat.log.locator(".content")
    expect(contents).to_have_count(50)
    expect(contents.first).to_have_text("m06")
    expect(contents.last).to_have_text(f"m{SEEDED}")
    expect(chat.unread(history)).to_have_count(0)
    chat.page.get_by_role("button", name="Load older messages").click()
    expect(contents).to_have_text([f"m{number:02d}" for number in range(1, SEEDED + 1)])
    expect(chat.page.get_by_role("button", name="Load older messages")).to_be_hidden()

    # In another room, messages to the first one count as unread, live
    chat.create_room(f"elsewhere-{uuid.uuid4().hex[:6]}")
    run(send(outputs, dave, room_id, "are you there?", "hello?"))
    expect(chat.unread(history)).to_have_text("2")
    chat.open_room(history)
    expect(chat.message("hello?")).to_be_visible()
    expect(chat.unread(history)).to_have_count(0)

    # A room Dave creates with her appears at once; and the read positions were stored: a reload
    # shows no unread count
    added = f"added-{uuid.uuid4().hex[:6]}"
    run(create_room(outputs, dave, added, memberIds=[carol.user_id]))
    expect(chat.room(added)).to_be_visible()
    chat.page.reload()
    chat.expect_connected()
    expect(chat.room(history)).to_be_visible()
    expect(chat.rooms.locator(".unread")).to_have_count(0)

    # A link to an open room (#room=<id>) joins it after sign-in, in a new tab (its own session)
    linked = f"linked-{uuid.uuid4().hex[:6]}"
    linked_id = run(create_room(outputs, dave, linked, open=True))
    tab = ChatPage.open(context, f"{outputs['WebAppUrl']}#room={linked_id}")
    tab.sign_in(carol.username, PASSWORD)
    expect(tab.page.get_by_role("heading", name=linked)).to_be_visible()
    expect(tab.room(linked)).to_be_visible()

    # A link to a closed room she is not in says why, and she stays signed in
    closed_id = run(create_room(outputs, dave, f"closed-{uuid.uuid4().hex[:6]}"))
    refused = ChatPage.open(context, f"{outputs['WebAppUrl']}#room={closed_id}")
    refused.sign_in(carol.username, PASSWORD)
    expect(refused.page.get_by_role("alert")).to_have_text(
        "this room is closed: only its members may enter it"
    )
    expect(refused.room(history)).to_be_visible()
    context.close()


def test_the_rooms_list_shows_every_page_of_rooms(browser: Browser, outputs: dict[str, str]) -> None:
    erin, frank = new_user(outputs), new_user(outputs)
    names = [f"long-{i:02d}-{uuid.uuid4().hex[:4]}" for i in range(12)]
    run(rooms_with_long_last_messages(outputs, frank, erin, names))

    chat = ChatPage.open(browser.new_context(), outputs["WebAppUrl"])
    chat.sign_in(erin.username, PASSWORD)

    for name in names:
        expect(chat.unread(name)).to_have_text("1")
    expect(chat.rooms.get_by_role("listitem")).to_have_count(12)
    pages = [frame for frame in chat.received if frame.get("type") == "rooms"]
    assert len(pages) > 1 and pages[-1]["cursor"] is None  # the page asked for each
