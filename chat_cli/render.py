"""Server frames, as a person reads them."""

from __future__ import annotations

from typing import Any

from chat_cli.commands import DELETED, State

QUOTE_CHARS = 40  # of a reply's quote (the server's excerpt is up to 100)
MENTIONS_SHOWN = 100  # listRooms counts mentions up to 100: shown as "99+"


def _time(stamp: str) -> str:
    return stamp[11:19] if len(stamp) >= 19 else stamp


def _who(state: State, user_id: str, display_name: str | None = None) -> str:
    """ "you", else the person's display name (remembered from any frame that carried it)."""
    if display_name:
        state.people[user_id] = display_name
    if user_id == state.user_id:
        return "you"
    return state.people.get(user_id) or user_id[:8]


def _version(item: dict[str, Any]) -> int:
    """The version of its message a frame or history item carries; a tombstone's is DELETED (final)."""
    if item.get("deleted") or item.get("type") == "messageDeleted":
        return DELETED
    return int(item.get("version", 1))


def _message(state: State, message: dict[str, Any]) -> str:
    """A message's line: its newest text, a placeholder once deleted."""
    if message.get("type") == "messageDeleted":  # a tombstone filling its seq's place: who deleted it
        return _change(state, message)
    where = f"#{state.label(message['roomId'])} #{message['seq']}"
    sender = _who(state, message["senderId"], message.get("displayName"))
    if message.get("deleted"):
        text = "(message deleted)"
    else:
        if message.get("editedAt"):
            state.hold_text(message["roomId"], message["messageId"], message["content"])
        text = message["content"] + ("  (edited)" if message.get("editedAt") else "")
        if "replyTo" in message:
            text = f"{_quote(state, message)} {text}"
    mark = "@ " if state.user_id and state.user_id in message.get("mentions", ()) else ""
    return f"{mark}[{_time(message['createdAt'])}] {where} {sender}: {text}"


def _excerpt(text: str) -> str:
    """A quoted text, on one line and at most QUOTE_CHARS long (… where it was cut)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= QUOTE_CHARS else flat[: QUOTE_CHARS - 1].rstrip() + "…"


def _quote(state: State, message: dict[str, Any]) -> str:
    """`↪ #SEQ sender: "excerpt"` for the message a reply answers, `↪ #SEQ (deleted)` once deleted.

    A history item's quote is the parent as it is now; a live one's as it was when the reply was sent:
    a parent this client shows as deleted, or holds the edited text of, is quoted as it holds it."""
    quote, room = message["replyTo"], message["roomId"]
    if quote.get("deleted") or state.version_shown(room, quote["messageId"]) == DELETED:
        return f"↪ #{quote['seq']} (deleted)"
    excerpt = quote["excerpt"]
    if message.get("type") == "message":
        excerpt = state.texts.get(room, {}).get(quote["messageId"], excerpt)
    sender = _who(state, quote["senderId"], quote.get("displayName"))
    return f'↪ #{quote["seq"]} {sender}: "{_excerpt(excerpt)}"'


def _change(state: State, change: dict[str, Any]) -> str:
    """The line for a newer version or the tombstone of a message (a printed line cannot be rewritten)."""
    where = f"#{state.label(change['roomId'])} #{change['seq']}"
    if _version(change) == DELETED:
        return f"[{_time(change['deletedAt'])}] {where} deleted by {_who(state, change['deletedBy'])}"
    editor = _who(state, change["senderId"], change.get("displayName"))
    state.hold_text(change["roomId"], change["messageId"], change["content"])
    return f"[{_time(change['editedAt'])}] {where} edited by {editor}: {change['content']}"


# Rendering by seq. A terminal cannot move a printed line, so each message is printed once, in seq
# order where the client can manage it: a duplicate (same messageId) prints nothing, a message past
# a gap is held until the history (getMessages after the last seq shown) fills the gap, and one that
# arrives after later ones did is printed marked as earlier. A message changes under its seq: a
# newer version (or the tombstone) of one printed already prints a line saying so, one held back is
# replaced by it; a frame whose version is at most the one shown prints nothing.


def _in_order(state: State, message: dict[str, Any]) -> str | None:
    """A message continuing the room's timeline: a change if already shown, marked if it belongs above."""
    room, seq = message["roomId"], message["seq"]
    if state.shown_before(room, message["messageId"]):
        return _update(state, message)
    state.remember(room, message["messageId"], _version(message))
    late = seq < state.last_seq.get(room, seq)
    state.seen(room, seq)
    line = _message(state, message)
    return f"{line}  (earlier)" if late else line


def _newer(state: State, change: dict[str, Any], version: int) -> bool:
    """Whether a change is newer than the version shown, remembering it where the timeline has passed
    its seq (not ahead of it: the history that fills the gap shows the message as it is then)."""
    room, message_id = change["roomId"], change["messageId"]
    if version <= state.version_shown(room, message_id):
        return False
    if change["seq"] <= state.last_seq.get(room, 0):
        state.remember(room, message_id, version)
    return True


def _update(state: State, change: dict[str, Any]) -> str | None:
    """A change to a message the timeline has passed: its line, once per version."""
    return _change(state, change) if _newer(state, change, _version(change)) else None


def _hold(state: State, message: dict[str, Any]) -> None:
    """Hold a message (or its tombstone, or a newer version of one held) back until its gap is filled."""
    held = state.held.setdefault(message["roomId"], {})
    before = held.get(message["seq"])
    if before is None or message["type"] == "messageDeleted":
        held[message["seq"]] = message
    elif _version(message) > _version(before):  # a newer text, and the time and sender held already
        held[message["seq"]] = {**before, **message, "type": before["type"]}


def _live(state: State, message: dict[str, Any]) -> list[str | None]:
    """A live `message`, `messageEdited` or `messageDeleted`: printed in seq order, or held back."""
    room, seq = message["roomId"], message["seq"]
    last = state.last_seq.get(room)
    kind = message["type"]
    if seq in state.held.get(room, {}):
        _hold(state, message)
        return []
    passed = last is None or seq <= last  # a change does not start a room's timeline: a message does
    if state.shown_before(room, message["messageId"]) or (kind != "message" and passed):
        return [_update(state, message)]  # a change to a message shown or from before the timeline
    if kind == "messageEdited":  # of a message not shown yet: the history will show its newest text
        return [_change(state, message)]
    if last is not None and seq > last + 1:  # a gap: hold it back, ask the history once
        _hold(state, message)
        if room not in state.catching_up.values():
            state.outbox.append(state.catch_up(room))
        return []
    return [_in_order(state, message), *_release(state, room)]


def _release(state: State, room: str, *, everything: bool = False) -> list[str | None]:
    """The held messages that now follow the last seq shown (all of them once the history answered)."""
    held = state.held.get(room, {})
    lines = []
    for seq in sorted(held):
        if not everything and seq > state.last_seq.get(room, 0) + 1:
            break
        lines.append(_in_order(state, held.pop(seq)))
    if not held:
        state.held.pop(room, None)
    return lines


def _catch_up(frame: dict[str, Any], state: State, room: str) -> list[str | None]:
    """A page the client asked for to fill a gap or resume: only what was not shown yet."""
    if frame.get("type") != "messages":  # the request failed: show what was held, as it is
        return [render(frame, state), *_release(state, room, everything=True)]
    lines = [_in_order(state, item) for item in frame["items"]]
    if frame.get("hasMore") and frame["items"]:
        state.outbox.append(state.catch_up(room))  # the next page, still holding what came live
        return lines
    return [*lines, *_release(state, room, everything=True)]


def _changed_yours(reply: dict[str, Any], state: State) -> str | None:
    """`edited` or `deleted`, said once (the room's `messageDeleted` reaches the deleting connection too)."""
    now = reply["version"] if reply["type"] == "edited" else DELETED
    return f"  ({reply['type']} #{reply['seq']})" if _newer(state, reply, now) else None


def _joined(lines: list[str | None]) -> str | None:
    return "\n".join(line for line in lines if line is not None) or None


def render(frame: dict[str, Any], state: State) -> str | None:
    """The line(s) to print for a frame (None to print nothing), updating what the client knows.

    Frames the client should send in response (gap fills) are left in ``state.outbox``."""
    kind = frame.get("type")
    if frame.get("requestId") in state.catching_up:
        return _joined(_catch_up(frame, state, state.catching_up.pop(frame["requestId"])))
    if kind in {"message", "messageEdited", "messageDeleted"}:
        return _joined(_live(state, frame))
    if kind == "ack":
        state.seen(frame["roomId"], frame["seq"])
        state.remember(frame["roomId"], frame["messageId"])
        return _joined([f"  (sent #{frame['seq']})", *_release(state, frame["roomId"])])
    if kind in {"edited", "deleted"}:  # your change (your other connections hear it as a change)
        return _changed_yours(frame, state)
    if kind == "messages":  # a page asked for by a command: shown as the listing it is
        for item in frame["items"]:
            state.seen(item["roomId"], item["seq"])
            state.remember(item["roomId"], item["messageId"], _version(item))
        lines = [_message(state, item) for item in frame["items"]]
        more = "  (older messages: /history)" if frame.get("hasMore") else "  (start of the room)"
        return "\n".join([*lines, more]) if lines else "  (no messages)"
    if kind == "room":
        room = frame["room"]
        state.names[room["roomId"]] = room["name"]
        if room["createdBy"] == state.user_id:
            state.current = room["roomId"]
        access = "open" if room["open"] else "closed"
        return f"* room #{room['name']} ({access}) {room['roomId']}, members: {len(room['memberIds'])}"
    if kind == "rooms":
        lines = []
        for item in frame["items"]:
            state.names[item["roomId"]] = item["name"]
            counts = f"{item['onlineCount']}/{item['memberCount']} online"
            mentions = item.get("mentionCount", 0)
            shown = "99+" if mentions >= MENTIONS_SHOWN else str(mentions)
            unread = f"unread {item['unreadCount']}" + (f"  mentions {shown}" if mentions else "")
            lines.append(f"  #{item['name']} {item['roomId']}  {unread}  {counts}")
        return "\n".join(lines) or "  (no rooms yet: /create one)"
    if kind == "joined":
        state.current = frame["roomId"]
        return f"* joined #{state.label(frame['roomId'])} (now chatting there)"
    if kind == "left":
        if state.current == frame["roomId"]:
            state.current = None
        return f"* left #{state.label(frame['roomId'])}"
    if kind in {"memberJoined", "memberLeft"}:
        verb = "joined" if kind == "memberJoined" else "left"
        who = _who(state, frame["userId"], frame.get("displayName"))
        return f"* {who} {verb} #{state.label(frame['roomId'])}"
    if kind == "presence":
        status = "is online" if frame["online"] else "went offline"
        who = _who(state, frame["userId"], frame.get("displayName"))
        return f"* {who} {status} in #{state.label(frame['roomId'])}"
    if kind == "members":
        people = [
            f"  {_who(state, m['userId'], m['displayName'])}{' (online)' if m['online'] else ''}"
            for m in frame["items"]
        ]
        more = ["  (more: the room has more members)"] if frame.get("cursor") else []
        return "\n".join([f"* members of #{state.label(frame['roomId'])}:", *people, *more])
    if kind == "typing":
        who = _who(state, frame["userId"], frame.get("displayName"))
        return f"  … {who} is typing in #{state.label(frame['roomId'])}"
    if kind == "read":
        who = _who(state, frame["userId"], frame.get("displayName"))
        return f"  ✓ {who} read #{state.label(frame['roomId'])} up to #{frame['seq']}"
    if kind == "readMarked":
        return None
    if kind == "identity":
        state.user_id = frame["userId"]
        name = frame.get("email") or frame["username"]
        return f"* you are {name} ({frame['userId']}), token valid until {frame['expiresAt']}"
    if kind == "reauthenticated":
        return f"* token renewed until {frame['expiresAt']}"
    if kind == "pong":
        return "  pong"
    if kind == "error":
        return f"! {frame['code']}: {frame['message']}"
    return f"? {frame}"
