"""Two people chat through the web page in two Chromium contexts, on the real local stack."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.support import PASSWORD, new_user
from tests.e2e.test_connections import vanish
from tests.support.local_stack import LocalStackProcess
from tests.web.pages import ChatPage

pytestmark = pytest.mark.slow


def test_two_people_chat_reload_come_back_from_offline_edit_and_reply(
    browser: Browser, chat_stack: LocalStackProcess, outputs: dict[str, str], screenshots: Path
) -> None:
    alice_user, bob_user = new_user(outputs), new_user(outputs)
    alice_context, bob_context = browser.new_context(), browser.new_context()
    alice = ChatPage.open(alice_context, outputs["WebAppUrl"])
    bob = ChatPage.open(bob_context, outputs["WebAppUrl"])

    # Both sign in with e-mail and password (InitiateAuth from the page, against the local Cognito)
    alice.sign_in(alice_user.username, PASSWORD)
    bob.sign_in(bob_user.username, PASSWORD)
    expect(alice.page.get_by_text(f"Signed in as {alice_user.username}")).to_be_visible()
    storage = alice.page.evaluate("() => JSON.stringify({...sessionStorage, ...localStorage})")
    assert list(json.loads(storage)) == ["chat.refresh"]  # the ID token only in memory

    # Alice creates an open room; Bob joins it by its id
    name = f"web-{uuid.uuid4().hex[:6]}"
    room_id = alice.create_room(name)
    expect(alice.room(name)).to_be_visible()
    bob.join(room_id)
    expect(bob.room(name)).to_be_visible()

    # They exchange messages both ways; Bob has the room open, so Alice's message is read at once
    # and Alice sees the receipt (from the `read` frame: Bob has sent nothing yet)
    alice.send("Hello Bob")
    expect(bob.message("Hello Bob")).to_be_visible()
    expect(alice.log.get_by_text("Read by")).to_be_visible()
    # Bob types (his first `typing` in the room: the server passes one per room every 2 s): Alice
    # sees it; then he sends what he typed
    bob.page.get_by_role("textbox", name="Message").press_sequentially("typing")
    expect(alice.page.get_by_text("is typing")).to_be_visible()
    alice.page.screenshot(path=screenshots / "web-chat.png")
    bob.send("Hi Alice")
    expect(alice.message("Hi Alice")).to_be_visible()
    expect(alice.message("Hello Bob")).to_have_count(1)
    # the receipt stays on Alice's message: Bob's own reply is not one he "read"
    expect(alice.log.locator("article", has_text="Hello Bob")).to_contain_text("Read by")
    expect(alice.log.locator("article", has_text="Hi Alice")).not_to_contain_text("Read by")

    # Bob reloads: signed back in from the tab's refresh token, the room open, its history shown
    bob.page.reload()
    bob.expect_connected()
    expect(bob.message("Hello Bob")).to_be_visible()
    expect(bob.message("Hi Alice")).to_be_visible()
    assert "code=" not in bob.page.url and "Token" not in bob.page.url

    # Bob's network goes: his connection drops without a close frame and he cannot reconnect;
    # Alice writes meanwhile, Bob too; Bob comes back and each message is there once, in order
    bob_context.set_offline(True)
    vanish(outputs, bob.connection_ids[-1])
    expect(bob.status).to_contain_text("Reconnecting")
    away = ["while you were away 1", "while you were away 2", "while you were away 3"]
    for text in away:
        alice.send(text)
    expect(alice.log.get_by_text("Sending…")).to_have_count(0)  # all three stored
    bob.send("sent while offline")
    expect(bob.log.get_by_text("Sending…")).to_be_visible()
    bob_context.set_offline(False)
    bob.expect_connected()
    expect(alice.message("sent while offline")).to_have_count(1)
    expect(bob.log.get_by_text("Sending…")).to_have_count(0)
    everything = ["Hello Bob", "Hi Alice", *away, "sent while offline"]
    for chat in (alice, bob):
        expect(chat.log.locator(".content")).to_have_text(everything)
        seqs = chat.log.locator("article").evaluate_all("(nodes) => nodes.map((node) => node.dataset.seq)")
        assert seqs == [str(seq) for seq in range(1, len(everything) + 1)]

    # A short reply typed right after a send, within the 2.5 s after the last `typing` (the server
    # drops a second one within 2 s): the page sends `typing` once the window ends, and Bob sees it
    alice.send("quick one")
    alice.message_box.press_sequentially("ok")
    expect(bob.message("quick one")).to_be_visible()
    expect(bob.page.get_by_text("is typing")).to_be_visible()
    sent = [frame.get("action") for frame in alice.sent]
    after_send = sent[max(i for i, action in enumerate(sent) if action == "sendMessage") :]
    assert after_send.count("typing") == 1, "the trailing `typing`, not one within the window"
    alice.message_box.fill("")

    # Alice edits her first message (Edit puts it in the compose box, Enter saves): Bob sees the new
    # text marked edited. Escape cancels an edit, back to what was typed before.
    alice.article("Hello Bob").get_by_role("button", name="Edit").click()
    expect(alice.message_box).to_have_value("Hello Bob")
    alice.message_box.fill("Hello Bob, edited")
    alice.message_box.press("Enter")
    expect(alice.message_box).to_have_value("")
    for chat in (alice, bob):
        expect(chat.message("Hello Bob, edited")).to_be_visible()
        expect(chat.article("Hello Bob, edited")).to_contain_text("(edited)")
    alice.message_box.fill("a draft")
    alice.article(away[0]).get_by_role("button", name="Edit").click()
    expect(alice.message_box).to_have_value(away[0])
    alice.message_box.press("Escape")
    expect(alice.message_box).to_have_value("a draft")
    # She deletes another: a placeholder takes its place on both pages
    alice.article(away[1]).get_by_role("button", name="Delete").click()
    for chat in (alice, bob):
        expect(chat.log.get_by_text("Message deleted")).to_be_visible()
        expect(chat.message(away[1])).to_have_count(0)
    # Only the sender gets Edit and Delete: Reply alone on Alice's messages in Bob's page, all three
    # on his own
    expect(bob.article("Hello Bob, edited").get_by_role("button")).to_have_text(["Reply"])
    expect(bob.article(away[0]).get_by_role("button")).to_have_text(["Reply"])
    expect(bob.article("Hi Alice").get_by_role("button")).to_have_text(["Reply", "Edit", "Delete"])
    expect(alice.article("Hi Alice").get_by_role("button")).to_have_text(["Reply"])

    # Bob opens a room of his own; Alice replies to his message naming him: Reply shows what she
    # answers above the Message box (Escape cancels it), her reply shows its quote, and Bob's room
    # list shows the mention on the first room, live and after a reload (listRooms' mentionCount)
    bob_name = bob_user.username.split("@")[0]
    bob.create_room(f"elsewhere-{uuid.uuid4().hex[:6]}")
    replying = alice.page.get_by_text("Replying to")
    alice.article("Hi Alice").get_by_role("button", name="Reply").click()
    expect(replying).to_contain_text(f"Replying to {bob_name}: Hi Alice")
    alice.message_box.press("Escape")
    expect(replying).to_be_hidden()
    alice.article("Hi Alice").get_by_role("button", name="Reply").click()
    reply = f"@{bob_name} welcome back"
    alice.send(reply)
    expect(replying).to_be_hidden()
    expect(alice.article(reply).locator(".quote")).to_have_text(f"{bob_name}: Hi Alice")
    sent_reply = [frame for frame in alice.sent if frame.get("action") == "sendMessage"][-1]
    assert (sent_reply["replyTo"], sent_reply["mentions"]) == (2, [bob_user.user_id])
    expect(bob.mentions(name)).to_have_text("@1")
    bob.page.reload()
    bob.expect_connected()
    expect(bob.mentions(name)).to_have_text("@1")
    # He opens it: the quote, his name marked, the message highlighted; the badge goes
    bob.open_room(name)
    expect(bob.article(reply).locator(".quote")).to_have_text(f"{bob_name} (you): Hi Alice")
    expect(bob.article(reply).locator("mark")).to_have_text(f"@{bob_name}")
    expect(bob.article(reply)).to_have_class(re.compile(r"\bmentions-you\b"))
    expect(bob.mentions(name)).to_have_count(0)
    # He deletes the message Alice answered: her quote of it says so on both pages
    bob.article("Hi Alice").first.get_by_role("button", name="Delete").click()
    for chat in (alice, bob):
        expect(chat.article(reply).locator(".quote")).to_have_text("Original message deleted")

    alice_context.close()
    bob_context.close()


def test_members_show_names_and_who_is_online(browser: Browser, outputs: dict[str, str]) -> None:
    """The Members list: display names (the e-mail's local part here), online, then offline."""
    alice_user, bob_user = new_user(outputs), new_user(outputs)
    alice_context, bob_context = browser.new_context(), browser.new_context()
    alice = ChatPage.open(alice_context, outputs["WebAppUrl"])
    bob = ChatPage.open(bob_context, outputs["WebAppUrl"])
    alice.sign_in(alice_user.username, PASSWORD)
    bob.sign_in(bob_user.username, PASSWORD)
    bob.join(alice.create_room(f"presence-{uuid.uuid4().hex[:6]}"))
    alice_name, bob_name = alice_user.username.split("@")[0], bob_user.username.split("@")[0]
    bob_members = bob.page.get_by_role("list", name="Members")

    expect(bob_members.get_by_text(alice_name)).to_contain_text("online")
    expect(alice.page.get_by_role("list", name="Members").get_by_text(bob_name)).to_contain_text("online")
    alice.send("hello")
    expect(bob.log.locator(".sender")).to_have_text([alice_name])
    alice_context.close()
    expect(bob_members.get_by_text(alice_name)).to_contain_text("offline")
    bob_context.close()
