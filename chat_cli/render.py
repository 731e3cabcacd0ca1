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
