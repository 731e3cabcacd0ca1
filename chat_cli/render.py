"""Server frames, as a person reads them."""

from __future__ import annotations

from typing import Any

from chat_cli.commands import State


def _time(stamp: str) -> str:
    return stamp[11:19] if len(stamp) >= 19 else stamp


def _who(state: State, user_id: str, display_name: str | None = None) -> str:
    """ "you", else the person's display name (remembered from any frame that carried it)."""
    if display_name:
        state.people[user_id] = display_name
    if user_id == state.user_id:
        return "you"
    return state.people.get(user_id) or user_id[:8]


def _message(state: State, message: dict[str, Any]) -> str:
    room = state.label(message["roomId"])
    sender = _who(state, message["senderId"], message.get("displayName"))
    return f"[{_time(message['createdAt'])}] #{room} {sender}: {message['content']}"


# Rendering by seq. A terminal cannot move a printed line, so each message is printed once, in seq
# order where the client can manage it: a duplicate (same messageId) prints nothing, a message past
# a gap is held until the history (getMessages after the last seq shown) fills the gap, and one that
# arrives after later ones did is printed marked as earlier.


def _in_order(state: State, message: dict[str, Any]) -> str | None:
    """A message continuing the room's timeline: None if already shown, marked if it belongs above."""
    room, seq = message["roomId"], message["seq"]
    if state.shown_before(room, message["messageId"]):
        return None
    state.remember(room, message["messageId"])
    late = seq < state.last_seq.get(room, seq)
    state.seen(room, seq)
    line = _message(state, message)
    return f"{line}  (#{seq}, earlier)" if late else line


def _live(state: State, message: dict[str, Any]) -> list[str | None]:
    room, seq = message["roomId"], message["seq"]
    if state.shown_before(room, message["messageId"]):
        return []
    last = state.last_seq.get(room)
    if last is not None and seq > last + 1:  # a gap: hold it back, ask the history once
        state.held.setdefault(room, {})[seq] = message
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


def _joined(lines: list[str | None]) -> str | None:
    return "\n".join(line for line in lines if line is not None) or None


def render(frame: dict[str, Any], state: State) -> str | None:
    """The line(s) to print for a frame (None to print nothing), updating what the client knows.

    Frames the client should send in response (gap fills) are left in ``state.outbox``."""
    kind = frame.get("type")
    if frame.get("requestId") in state.catching_up:
        return _joined(_catch_up(frame, state, state.catching_up.pop(frame["requestId"])))
    if kind == "message":
        return _joined(_live(state, frame))
    if kind == "ack":
        state.seen(frame["roomId"], frame["seq"])
        state.remember(frame["roomId"], frame["messageId"])
        return _joined([f"  (sent #{frame['seq']})", *_release(state, frame["roomId"])])
    if kind == "messages":  # a page asked for by a command: shown as the listing it is
        for item in frame["items"]:
            state.seen(item["roomId"], item["seq"])
            state.remember(item["roomId"], item["messageId"])
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
            lines.append(f"  #{item['name']} {item['roomId']}  unread {item['unreadCount']}  {counts}")
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
