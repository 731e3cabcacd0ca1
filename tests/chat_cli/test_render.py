"""The chat CLI renders a room by seq: each message once, late ones marked, gaps filled from history."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from chat_cli import auth
from chat_cli.commands import REMEMBERED_IDS, State
from chat_cli.render import render
from chat_cli.session import ChatSession

ROOM = "room-1"
DELETED_AT = "2026-01-01T10:06:00.000Z"


def message(seq: int, content: str | None = None, *, room: str = ROOM) -> dict[str, Any]:
    return {
        "type": "message",
        "roomId": room,
        "messageId": f"m-{room}-{seq}",
        "seq": seq,
        "senderId": "bob-id",
        "displayName": "bob",
        "content": content or f"message {seq}",
        "createdAt": f"2026-01-01T10:00:{seq % 60:02d}.000Z",
        "version": 1,
    }


def page(request_id: str, *seqs: int, has_more: bool = False) -> dict[str, Any]:
    items = [{k: v for k, v in message(seq).items() if k != "type"} for seq in seqs]
    return {"type": "messages", "roomId": ROOM, "items": items, "hasMore": has_more, "requestId": request_id}


def edited(seq: int, content: str, version: int) -> dict[str, Any]:
    return {
        "type": "messageEdited",
        **{k: message(seq)[k] for k in ("roomId", "messageId", "seq", "senderId", "displayName")},
        "content": content,
        "version": version,
        "editedAt": "2026-01-01T10:05:00.000Z",
    }


def deleted(seq: int, *, by: str = "bob-id") -> dict[str, Any]:
    return {
        "type": "messageDeleted",
        "roomId": ROOM,
        "seq": seq,
        "messageId": f"m-{ROOM}-{seq}",
        "deletedAt": DELETED_AT,
        "deletedBy": by,
    }


def tombstone(seq: int) -> dict[str, Any]:
    """A deleted message as a history page carries it."""
    kept = ("roomId", "messageId", "seq", "senderId", "displayName", "createdAt")
    return {
        **{k: message(seq)[k] for k in kept},
        "deleted": True,
        "deletedAt": DELETED_AT,
        "deletedBy": "bob-id",
    }


def state_at(seq: int) -> State:
    """A client that has shown the room up to `seq`."""
    state = State(user_id="alice-id", current=ROOM, names={ROOM: "general"})
    for n in range(1, seq + 1):
        render(message(n), state)
    return state


def test_messages_in_order_print_as_they_come() -> None:
    state = state_at(0)
    assert render(message(1, "hi"), state) == "[10:00:01] #general #1 bob: hi"
    assert render(message(2, "there"), state) == "[10:00:02] #general #2 bob: there"
    assert state.last_seq[ROOM] == 2
    assert state.outbox == []


def test_a_message_delivered_twice_prints_once() -> None:
    state = state_at(3)
    assert render(message(3), state) is None
    assert render(message(2), state) is None
    assert state.last_seq[ROOM] == 3


def test_the_echo_of_your_own_acked_message_prints_nothing() -> None:
    state = state_at(1)
    ack = {"type": "ack", "roomId": ROOM, "messageId": "mine", "seq": 2, "createdAt": "x"}
    assert render(ack, state) == "  (sent #2)"
    assert render({**message(2), "messageId": "mine", "senderId": "alice-id"}, state) is None


def test_a_late_message_is_marked_earlier() -> None:
    state = state_at(2)
    render({"type": "ack", "roomId": ROOM, "messageId": "mine", "seq": 4, "createdAt": "x"}, state)
    assert render(message(3, "late"), state) == "[10:00:03] #general #3 bob: late  (earlier)"
    assert state.last_seq[ROOM] == 4
    assert render(message(3, "late"), state) is None  # and only once


def test_a_gap_holds_the_message_and_asks_the_history_once() -> None:
    state = state_at(2)
    assert render(message(5), state) is None
    assert render(message(6), state) is None  # the fill is already on its way
    [fill] = state.outbox
    assert {k: fill[k] for k in ("action", "roomId", "after")} == {
        "action": "getMessages",
        "roomId": ROOM,
        "after": 2,
    }
    text = render(page(fill["requestId"], 3, 4, 5), state)  # 6 was stored after the page was read
    assert text is not None
    assert [line.split(": ")[1] for line in text.splitlines()] == [f"message {n}" for n in (3, 4, 5, 6)]
    assert state.last_seq[ROOM] == 6
    assert not state.held and not state.catching_up
    assert render(message(6), state) is None
    assert render(message(7), state) == "[10:00:07] #general #7 bob: message 7"


def test_a_real_gap_in_the_history_is_skipped() -> None:
    state = state_at(2)
    render(message(4), state)
    [fill] = state.outbox
    assert render(page(fill["requestId"], 4), state) == "[10:00:04] #general #4 bob: message 4"
    assert render(page("unasked", 4), state) is not None  # a page a command asked for lists again


def test_a_gap_closed_by_the_live_path_releases_what_was_held() -> None:
    state = state_at(2)
    render(message(4), state)
    text = render(message(3), state)
    assert text == "[10:00:03] #general #3 bob: message 3\n[10:00:04] #general #4 bob: message 4"
    [fill] = state.outbox
    assert render(page(fill["requestId"], 3, 4), state) is None  # nothing new: nothing printed


def test_a_long_gap_is_paged_on_until_the_history_ends() -> None:
    state = state_at(1)
    render(message(9), state)
    first = state.outbox.pop()
    assert render(page(first["requestId"], 2, 3, has_more=True), state) is not None
    second = state.outbox.pop()
    assert second["after"] == 3
    assert render(message(9), state) is None  # still held, not yet shown
    text = render(page(second["requestId"], 4, 5, 6, 7, 8, 9), state)
    assert text is not None and len(text.splitlines()) == 6


def test_a_failed_fill_shows_what_was_held() -> None:
    state = state_at(1)
    render(message(5), state)
    fill = state.outbox.pop()
    error = {"type": "error", "code": "INTERNAL_ERROR", "message": "later", "requestId": fill["requestId"]}
    assert render(error, state) == "! INTERNAL_ERROR: later\n[10:00:05] #general #5 bob: message 5"


def test_rooms_keep_their_own_timelines() -> None:
    state = state_at(3)
    assert render(message(1, room="other"), state) == "[10:00:01] #other #1 bob: message 1"
    assert render(message(4), state) is not None
    assert state.outbox == []


def test_a_room_remembers_the_last_thousand_ids() -> None:
    state = state_at(REMEMBERED_IDS + 5)
    assert len(state.shown[ROOM]) == REMEMBERED_IDS
    assert render(message(REMEMBERED_IDS + 5), state) is None
    assert render(message(6), state) is None  # still remembered
    assert render(message(5), state) is not None  # forgotten: shown once more, marked earlier


def test_a_page_shows_edits_marked_and_deleted_messages_as_placeholders() -> None:
    state = state_at(0)
    items = [{**edited(1, "fixed", 2), "createdAt": message(1)["createdAt"]}, tombstone(2)]
    listing = {"type": "messages", "roomId": ROOM, "items": items, "hasMore": False}
    assert render(listing, state) == (
        "[10:00:01] #general #1 bob: fixed  (edited)\n"
        "[10:00:02] #general #2 bob: (message deleted)\n"
        "  (start of the room)"
    )
    assert render(edited(1, "fixed", 2), state) is None  # the version shown already
    assert render(deleted(2), state) is None


def test_an_edit_prints_once_per_newer_version() -> None:
    state = state_at(2)
    assert render(edited(1, "fixed", 2), state) == "[10:05:00] #general #1 edited by bob: fixed"
    assert render(edited(1, "fixed", 2), state) is None  # delivered twice
    assert render(message(1), state) is None  # version 1 posted again
    newer = {**message(1, "fixed again"), "version": 3, "editedAt": "2026-01-01T10:07:00.000Z"}
    assert render(newer, state) == "[10:07:00] #general #1 edited by bob: fixed again"
    assert render(edited(1, "fixed", 2), state) is None  # older than the one shown


def test_a_delete_is_final() -> None:
    state = state_at(2)
    assert render(deleted(2), state) == "[10:06:00] #general #2 deleted by bob"
    assert render(deleted(2), state) is None
    assert render(edited(2, "too late", 5), state) is None
    assert render({**message(2), "version": 5}, state) is None


def test_a_change_before_the_timeline_prints_once_and_one_in_a_new_room_starts_nothing() -> None:
    state = state_at(5)
    state.shown[ROOM].clear()  # forgotten, or before the history this client loaded
    assert render(edited(2, "old news", 2), state) == "[10:05:00] #general #2 edited by bob: old news"
    assert render(edited(2, "old news", 2), state) is None
    assert render(deleted(3, by="alice-id"), state) == "[10:06:00] #general #3 deleted by you"
    other = {**deleted(3), "roomId": "other"}
    assert render(other, state) == "[10:06:00] #other #3 deleted by bob"
    assert "other" not in state.last_seq and state.outbox == []  # no history asked for a change


def test_a_tombstone_fills_its_place_in_the_timeline() -> None:
    state = state_at(2)
    assert render(deleted(3), state) == "[10:06:00] #general #3 deleted by bob"
    assert state.last_seq[ROOM] == 3
    assert render(message(4), state) == "[10:00:04] #general #4 bob: message 4"
    assert render(deleted(6), state) is None  # past a gap: held, the history asked for
    [fill] = state.outbox
    assert fill["after"] == 4


def test_a_held_message_is_shown_as_it_is_when_its_gap_fills() -> None:
    state = state_at(2)
    render(message(5), state)
    render(message(6), state)
    assert render(edited(5, "fixed", 2), state) is None
    assert render(message(5), state) is None  # the older version does not replace the newer one
    assert render(deleted(6), state) is None
    [fill] = state.outbox
    resumed = page(fill["requestId"], 3, 4)
    resumed["items"][0] = tombstone(3)
    assert render(resumed, state) == (
        "[10:00:03] #general #3 bob: (message deleted)\n"
        "[10:00:04] #general #4 bob: message 4\n"
        "[10:00:05] #general #5 bob: fixed  (edited)\n"
        "[10:06:00] #general #6 deleted by bob"
    )


def test_a_page_filling_a_gap_brings_the_changes_to_messages_shown_meanwhile() -> None:
    state = state_at(2)
    render(message(4), state)
    render(message(3), state)  # the gap closed live while the history was asked
    [fill] = state.outbox
    resumed = page(fill["requestId"], 3, 4)
    resumed["items"][1] = tombstone(4)
    assert render(resumed, state) == "[10:06:00] #general #4 deleted by bob"


def test_a_resume_rereads_the_messages_shown_and_prints_what_changed_meanwhile() -> None:
    state = state_at(5)
    resume = state.catch_up(ROOM, reread=True)
    assert resume["after"] == 0  # from the first message shown (at most a page back)
    resumed = page(resume["requestId"], 1, 2, 3, 4, 5, 6)
    resumed["items"][1] = {**resumed["items"][1], "content": "fixed", "version": 2, "editedAt": DELETED_AT}
    resumed["items"][2] = tombstone(3)
    assert render(resumed, state) == (
        "[10:06:00] #general #2 edited by bob: fixed\n"
        "[10:06:00] #general #3 deleted by bob\n"
        "[10:00:06] #general #6 bob: message 6"
    )
    assert state_at(250).catch_up(ROOM, reread=True)["after"] == 150


def test_your_edit_and_delete_are_confirmed_once() -> None:
    state = state_at(2)
    reply = {"type": "edited", "roomId": ROOM, "seq": 2, "messageId": "m-room-1-2", "version": 2}
    assert render({**reply, "editedAt": "x"}, state) == "  (edited #2)"
    assert render(edited(2, "fixed", 2), state) is None  # the same version, from elsewhere
    gone = {"type": "deleted", "roomId": ROOM, "seq": 2, "messageId": "m-room-1-2"}
    assert render(gone, state) == "  (deleted #2)"
    assert render(deleted(2, by="alice-id"), state) is None  # the room's notice reaches you too
    assert render(deleted(1, by="alice-id"), state) == "[10:06:00] #general #1 deleted by you"
    assert render({**gone, "seq": 1, "messageId": "m-room-1-1"}, state) is None  # heard first


class FakeSocket:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def send(self, raw: str) -> None:
        self.sent.append(json.loads(raw))


def session_at(seq: int) -> tuple[ChatSession, FakeSocket, list[str]]:
    screen: list[str] = []
    session = ChatSession({}, auth.Tokens("token", None), show=screen.append)
    session.state = state_at(seq)
    socket = FakeSocket()
    session._ws = socket  # type: ignore[assignment]
    return session, socket, screen


def test_the_session_sends_the_fill_and_marks_the_page_read() -> None:
    session, socket, screen = session_at(2)

    async def play() -> None:
        await session._on_frame(message(5))
        await session._on_frame(message(6))
        [fill] = [frame for frame in socket.sent if frame["action"] == "getMessages"]
        assert fill["after"] == 2
        await session._on_frame(page(fill["requestId"], 3, 4, 5, 6))

    asyncio.run(play())
    lines = "\n".join(screen).splitlines()
    assert [line.split(": ")[1] for line in lines] == [f"message {n}" for n in (3, 4, 5, 6)]
    assert [frame["action"] for frame in socket.sent] == ["getMessages", "markRead"]
    assert socket.sent[-1]["seq"] == 6


def test_the_session_marks_read_once_per_new_message() -> None:
    session, socket, screen = session_at(2)

    async def play() -> None:
        await session._on_frame(message(3))
        await session._on_frame(message(3))

    asyncio.run(play())
    assert len(screen) == 1
    assert [(frame["action"], frame["seq"]) for frame in socket.sent] == [("markRead", 3)]


def test_the_session_marks_a_tombstone_in_its_place_read() -> None:
    session, socket, _ = session_at(2)
    asyncio.run(session._on_frame(deleted(3)))
    assert [(frame["action"], frame["seq"]) for frame in socket.sent] == [("markRead", 3)]


def reply(seq: int, parent: int, content: str, *, excerpt: str | None = None) -> dict[str, Any]:
    """Carol's live reply to #parent (bob's message), quoting `excerpt`."""
    quote = {
        "seq": parent,
        "messageId": f"m-{ROOM}-{parent}",
        "senderId": "bob-id",
        "displayName": "bob",
        "excerpt": excerpt or f"message {parent}",
    }
    return {**message(seq, content), "senderId": "carol-id", "displayName": "carol", "replyTo": quote}


def test_a_reply_prints_its_quote_before_its_text() -> None:
    state = state_at(3)
    assert render(reply(4, 3, "yes"), state) == '[10:00:04] #general #4 carol: ↪ #3 bob: "message 3" yes'
    state.user_id = "bob-id"
    long = "a first line\nthat goes on " + "and on " * 20
    assert render(reply(5, 3, "no", excerpt=long[:100]), state) == (
        '[10:00:05] #general #5 carol: ↪ #3 you: "a first line that goes on and on and on…" no'
    )


def test_a_reply_to_a_deleted_message_says_so() -> None:
    state = state_at(3)
    gone = {**reply(4, 2, "yes"), "replyTo": {"seq": 2, "messageId": f"m-{ROOM}-2", "deleted": True}}
    assert render(gone, state) == "[10:00:04] #general #4 carol: ↪ #2 (deleted) yes"
    render(deleted(3), state)  # deleted after the reply quoting it was sent
    assert render(reply(5, 3, "too late"), state) == "[10:00:05] #general #5 carol: ↪ #3 (deleted) too late"


def test_a_live_reply_quotes_its_parent_as_the_client_holds_it_and_a_page_as_it_is_now() -> None:
    state = state_at(3)
    render(edited(3, "fixed", 2), state)  # the edit arrives before a reply sent before it
    assert render(reply(4, 3, "yes"), state) == '[10:00:04] #general #4 carol: ↪ #3 bob: "fixed" yes'
    item = {k: v for k, v in reply(5, 3, "ok", excerpt="fixed twice").items() if k != "type"}
    listing = {"type": "messages", "roomId": ROOM, "items": [item], "hasMore": True}
    assert render(listing, state) == (
        '[10:00:05] #general #5 carol: ↪ #3 bob: "fixed twice" ok\n  (older messages: /history)'
    )


def test_a_message_that_mentions_you_is_marked() -> None:
    state = state_at(3)
    assert render({**message(4, "@alice look"), "mentions": ["alice-id"]}, state) == (
        "@ [10:00:04] #general #4 bob: @alice look"
    )
    assert render({**message(5), "mentions": ["carol-id"]}, state) == "[10:00:05] #general #5 bob: message 5"
    marked = {**reply(6, 5, "@alice yes"), "mentions": ["alice-id"]}
    assert render(marked, state) == '@ [10:00:06] #general #6 carol: ↪ #5 bob: "message 5" @alice yes'


def test_rooms_show_the_mention_count_next_to_the_unread_count() -> None:
    def listing(unread: int, mentions: int) -> dict[str, Any]:
        item = {"roomId": ROOM, "name": "general", "unreadCount": unread, "mentionCount": mentions}
        return {"type": "rooms", "items": [{**item, "onlineCount": 1, "memberCount": 2}], "cursor": None}

    state = state_at(0)
    assert render(listing(3, 0), state) == f"  #general {ROOM}  unread 3  1/2 online"
    assert render(listing(3, 2), state) == f"  #general {ROOM}  unread 3  mentions 2  1/2 online"
    assert render(listing(150, 99), state) == f"  #general {ROOM}  unread 150  mentions 99  1/2 online"
    assert render(listing(150, 100), state) == f"  #general {ROOM}  unread 150  mentions 99+  1/2 online"
