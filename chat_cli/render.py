"""Server frames, as a person reads them."""

from __future__ import annotations

from typing import Any

from chat_cli.commands import State


def _time(stamp: str) -> str:
    return stamp[11:19] if len(stamp) >= 19 else stamp


def _who(state: State, user_id: str) -> str:
    return "you" if user_id == state.user_id else user_id[:8]


def _message(state: State, message: dict[str, Any]) -> str:
    room = state.label(message["roomId"])
    return f"[{_time(message['createdAt'])}] #{room} {_who(state, message['senderId'])}: {message['content']}"


def render(frame: dict[str, Any], state: State) -> str | None:
    """The line(s) to print for a frame (None to print nothing), updating what the client knows."""
    kind = frame.get("type")
    if kind == "message":
        state.seen(frame["roomId"], frame["seq"])
        return _message(state, frame)
    if kind == "ack":
        state.seen(frame["roomId"], frame["seq"])
        return f"  (sent #{frame['seq']})"
    if kind == "messages":
        for item in frame["items"]:
            state.seen(item["roomId"], item["seq"])
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
            lines.append(f"  #{item['name']} {item['roomId']}  unread {item['unreadCount']}")
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
        return f"* {_who(state, frame['userId'])} {verb} #{state.label(frame['roomId'])}"
    if kind == "typing":
        return f"  … {_who(state, frame['userId'])} is typing in #{state.label(frame['roomId'])}"
    if kind == "read":
        return (
            f"  ✓ {_who(state, frame['userId'])} read #{state.label(frame['roomId'])} up to #{frame['seq']}"
        )
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
