"""What a person types, turned into protocol frames (PROTOCOL.md actions)."""

from __future__ import annotations

import re
import shlex
import sys
import uuid
from dataclasses import dataclass, field
from typing import Any

REMEMBERED_IDS = 1000  # message ids remembered per room, to show each message once (as clients/js)
HISTORY_PAGE = 100  # the server's largest getMessages page
DELETED = sys.maxsize  # the version a tombstone is held at: above every edit, so nothing replaces it
MAX_MENTIONS = 20  # the server refuses more distinct ids (BAD_REQUEST)
MENTION = re.compile(r"(?<!\S)@([^\s@]+)")  # an @ starting a word, up to the next space

HELP = """\
Commands (anything else is sent as a message to the current room):
  /create NAME [--open] [USER_ID ...]   create a room (closed unless --open) and enter it
  /join ROOM          join a room and enter it            /leave [ROOM]    leave a room
  /room ROOM          enter a room you are a member of    /rooms           list your rooms
  /history [N]        page back through the current room's history (N messages, default 20)
  /after SEQ          messages after SEQ (resume after a gap)
  /edit SEQ TEXT      new text for your message #SEQ      /delete SEQ      delete your #SEQ
  /reply SEQ TEXT     send TEXT as a reply to #SEQ
  /typing             tell the room you are typing        /read            mark everything read
  /members            who is in the current room, and who is online
  /whoami             your identity                       /ping            keep-alive
  /quit               leave the chat
ROOM is a room id, a unique prefix of one, or a room name you have seen.
SEQ is a message's number in its room, shown as #SEQ after the room's name.
@NAME in a message mentions the person of that display name (spaces left out, any case)."""


@dataclass
class State:
    """What the client remembers: rooms seen, where the person is, what they have read."""

    user_id: str = ""
    current: str | None = None
    names: dict[str, str] = field(default_factory=dict)
    last_seq: dict[str, int] = field(default_factory=dict)
    oldest_seq: dict[str, int] = field(default_factory=dict)
    people: dict[str, str] = field(default_factory=dict)  # user id -> display name, as frames tell
    # Rendering by seq (clients/js/src/timeline.js is the model): the ids shown per room with the
    # version shown (oldest first, at most REMEMBERED_IDS), live messages held back past a gap
    # (room -> seq -> frame), the catch-up pages asked for (requestId -> room) and frames render
    # wants sent (the session sends them).
    shown: dict[str, dict[str, int]] = field(default_factory=dict)
    held: dict[str, dict[int, dict[str, Any]]] = field(default_factory=dict)
    catching_up: dict[str, str] = field(default_factory=dict)
    outbox: list[dict[str, Any]] = field(default_factory=list)
    # The text of messages shown edited (room -> message id -> content, at most REMEMBERED_IDS per
    # room): a live reply quotes its parent as it was when sent, the client shows it as it holds it.
    texts: dict[str, dict[str, str]] = field(default_factory=dict)

    def resolve(self, text: str) -> str:
        exact = [room for room, name in self.names.items() if text in (room, name)]
        prefixed = [room for room in self.names if room.startswith(text)]
        matches = exact or prefixed
        return matches[0] if len(matches) == 1 else text

    def label(self, room_id: str) -> str:
        return self.names.get(room_id, room_id[:8])

    def seen(self, room_id: str, seq: int) -> None:
        self.last_seq[room_id] = max(seq, self.last_seq.get(room_id, 0))
        self.oldest_seq[room_id] = min(seq, self.oldest_seq.get(room_id, seq))

    def shown_before(self, room_id: str, message_id: str) -> bool:
        return message_id in self.shown.get(room_id, {})

    def version_shown(self, room_id: str, message_id: str) -> int:
        """The highest version of the message shown (DELETED for its tombstone), 0 if none was."""
        return self.shown.get(room_id, {}).get(message_id, 0)

    def remember(self, room_id: str, message_id: str, version: int = 1) -> None:
        ids = self.shown.setdefault(room_id, {})
        ids[message_id] = max(version, ids.get(message_id, 0))
        if len(ids) > REMEMBERED_IDS:
            del ids[next(iter(ids))]

    def hold_text(self, room_id: str, message_id: str, content: str) -> None:
        texts = self.texts.setdefault(room_id, {})
        texts.pop(message_id, None)
        texts[message_id] = content
        if len(texts) > REMEMBERED_IDS:
            del texts[next(iter(texts))]

    def mentioned(self, text: str) -> list[str]:
        """The user ids that `@NAME` words of a text name, NAME being a display name this client has
        seen (from messages, members, presence...) with its spaces left out, in any case; trailing
        punctuation is ignored. Not yourself; every person of that name; at most MAX_MENTIONS."""
        by_name: dict[str, list[str]] = {}
        for user_id, name in self.people.items():
            if name and user_id != self.user_id:
                by_name.setdefault("".join(name.split()).casefold(), []).append(user_id)
        found = [
            user_id
            for word in MENTION.findall(text)
            for user_id in by_name.get(word.rstrip(".,;:!?)]}'\"").casefold(), [])
        ]
        return list(dict.fromkeys(found))[:MAX_MENTIONS]

    def catch_up(self, room_id: str, *, reread: bool = False) -> dict[str, Any]:
        """The request for what the room has after the last seq shown; its page continues the timeline.

        With `reread` (a resume), from up to a page of shown messages before it: a change made while
        the client was away is not a new seq, and the page shows each message as it is now."""
        last = self.last_seq.get(room_id, 0)
        oldest = self.oldest_seq.get(room_id, 1)
        frame: dict[str, Any] = {
            "action": "getMessages",
            "roomId": room_id,
            "after": max(last - HISTORY_PAGE, oldest - 1, 0) if reread else last,
            "limit": HISTORY_PAGE,
            "requestId": request_id(),
        }
        self.catching_up[frame["requestId"]] = room_id
        return frame


class UsageError(ValueError):
    pass


def request_id() -> str:
    return uuid.uuid4().hex[:12]


def parse(line: str, state: State) -> dict[str, Any] | None:
    """The frame for one typed line; None for a command handled without sending (none yet)."""
    if not line.startswith("/"):
        return _send(line, state)
    if line.split(maxsplit=1)[0] in {"/edit", "/reply"}:  # the text as typed, as a message's (no quoting)
        command, *args = line.split(maxsplit=2)
        return _edit(args, state) if command == "/edit" else _reply(args, state)
    words = shlex.split(line[1:])
    if not words:
        raise UsageError(HELP)
    command, args = words[0], words[1:]
    if command == "create":
        if not args:
            raise UsageError("usage: /create NAME [--open] [USER_ID ...]")
        members = [arg for arg in args[1:] if arg != "--open"]
        frame: dict[str, Any] = {"action": "createRoom", "name": args[0], "open": "--open" in args[1:]}
        if members:
            frame["memberIds"] = members
        return frame
    if command in {"join", "room"}:
        if len(args) != 1:
            raise UsageError(f"usage: /{command} ROOM")
        room_id = state.resolve(args[0])
        if command == "room":
            state.current = room_id
            return {"action": "getMessages", "roomId": room_id, "limit": 20}
        return {"action": "joinRoom", "roomId": room_id}
    if command == "leave":
        return {"action": "leaveRoom", "roomId": state.resolve(args[0]) if args else _current(state)}
    if command == "history":
        room_id = _current(state)
        frame = {"action": "getMessages", "roomId": room_id, "limit": int(args[0]) if args else 20}
        if room_id in state.oldest_seq:
            frame["before"] = state.oldest_seq[room_id]
        return frame
    if command == "after":
        if len(args) != 1 or not args[0].isdigit():
            raise UsageError("usage: /after SEQ")
        return {"action": "getMessages", "roomId": _current(state), "after": int(args[0])}
    if command == "delete":
        if len(args) != 1 or not args[0].isdigit():
            raise UsageError("usage: /delete SEQ")
        return {"action": "deleteMessage", "roomId": _current(state), "seq": int(args[0])}
    if command == "members":
        return {"action": "getMembers", "roomId": _current(state)}
    if command == "typing":
        return {"action": "typing", "roomId": _current(state)}
    if command == "read":
        room_id = _current(state)
        return {"action": "markRead", "roomId": room_id, "seq": state.last_seq.get(room_id, 0)}
    simple = {"rooms": "listRooms", "whoami": "whoami", "ping": "ping"}
    if command in simple:
        return {"action": simple[command]}
    raise UsageError(HELP)


def _send(content: str, state: State) -> dict[str, Any]:
    frame: dict[str, Any] = {
        "action": "sendMessage",
        "roomId": _current(state),
        "content": content,
        "clientMessageId": request_id(),
    }
    if mentions := state.mentioned(content):
        frame["mentions"] = mentions
    return frame


def _reply(args: list[str], state: State) -> dict[str, Any]:
    if len(args) != 2 or not args[0].isdigit():
        raise UsageError("usage: /reply SEQ TEXT")
    return {**_send(args[1], state), "replyTo": int(args[0])}


def _edit(args: list[str], state: State) -> dict[str, Any]:
    if len(args) != 2 or not args[0].isdigit():
        raise UsageError("usage: /edit SEQ TEXT")
    return {"action": "editMessage", "roomId": _current(state), "seq": int(args[0]), "content": args[1]}


def _current(state: State) -> str:
    if state.current is None:
        raise UsageError("no current room: /create one, /join one or enter one with /room")
    return state.current
