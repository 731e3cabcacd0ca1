"""Domain objects the data-access layer returns and the logic works with (no storage details)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Caller:
    """Who sent a frame, on which connection: taken only from the authorizer's context."""

    connection_id: str
    user_id: str
    username: str
    email: str | None
    token_expires_at: int
    # What other members see (from the ID token: preferred_username, else name, else the e-mail's
    # local part, else the username).
    display_name: str = ""

    @property
    def name(self) -> str:
        return self.display_name or self.username


@dataclass(frozen=True)
class ConnectionRecord:
    connection_id: str
    user_id: str
    token_expires_at: int
    connected_at: float  # epoch seconds: when its `$connect` began


@dataclass(frozen=True)
class Ack:
    """What the sender is told about a stored message (also what a retry gets back)."""

    room_id: str
    message_id: str
    seq: int
    created_at: str
    client_message_id: str | None = None

    def wire(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "roomId": self.room_id,
            "messageId": self.message_id,
            "seq": self.seq,
            "createdAt": self.created_at,
        }
        if self.client_message_id is not None:
            body["clientMessageId"] = self.client_message_id
        return body


# A quote carries the first characters of its parent's current version.
EXCERPT_CHARS = 100


@dataclass(frozen=True)
class Quote:
    """What a reply shows of its parent: read from the parent as it is now (never stored in the reply,
    so an edit of the parent shows in its quotes, and a delete leaves no copy of its content)."""

    seq: int
    message_id: str
    sender_id: str = ""
    display_name: str = ""
    excerpt: str | None = None  # None: not read yet (a stored reply names only seq and messageId)
    deleted: bool = False

    @classmethod
    def of(cls, parent: Message) -> Quote:
        if parent.deleted:
            return cls(parent.seq, parent.message_id, deleted=True)
        excerpt = parent.content[:EXCERPT_CHARS]
        return cls(parent.seq, parent.message_id, parent.sender_id, parent.sender_name, excerpt)

    @property
    def resolved(self) -> bool:
        return self.deleted or self.excerpt is not None

    def wire(self) -> dict[str, Any]:
        if self.deleted or self.excerpt is None:
            return {"seq": self.seq, "messageId": self.message_id, "deleted": True}
        return {
            "seq": self.seq,
            "messageId": self.message_id,
            "senderId": self.sender_id,
            "displayName": self.display_name,
            "excerpt": self.excerpt,
        }


@dataclass(frozen=True)
class Message:
    room_id: str
    message_id: str
    seq: int
    sender_id: str
    content: str
    created_at: str
    client_message_id: str | None = None

    def ack(self) -> Ack:
        return Ack(self.room_id, self.message_id, self.seq, self.created_at, self.client_message_id)

    sender_name: str = ""
    # The connection it was sent from (never on the wire): a fan-out that posts it from the history
    # leaves that connection out, as the message's own job does (chat.logic.room_order).
    sent_from: str | None = None
    version: int = 1  # 1 until edited; each edit adds one
    edited_at: str | None = None
    # A deleted message is a tombstone: its seq stays, its content is gone from the table.
    deleted_at: str | None = None
    deleted_by: str | None = None
    reply_to: Quote | None = None
    mentions: tuple[str, ...] = ()  # user ids, members when it was sent

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def others_mentioned(self) -> tuple[str, ...]:
        """The people it mentions besides its sender (whose own messages are never unread)."""
        return tuple(user_id for user_id in self.mentions if user_id != self.sender_id)

    def wire(self) -> dict[str, Any]:
        """The message as the `message` frame, history and `lastMessage` carry it: its ack, its sender
        and its newest version; a tombstone instead of the content once it is deleted."""
        body: dict[str, Any] = {**self.ack().wire(), "senderId": self.sender_id}
        if self.sender_name:
            body["displayName"] = self.sender_name
        if self.deleted_at is not None:
            body.update(deleted=True, deletedAt=self.deleted_at, deletedBy=self.deleted_by or self.sender_id)
            return body
        body.update(content=self.content, version=self.version)
        if self.edited_at is not None:
            body["editedAt"] = self.edited_at
        if self.reply_to is not None:
            body["replyTo"] = self.reply_to.wire()
        if self.mentions:
            body["mentions"] = list(self.mentions)
        return body


@dataclass(frozen=True)
class Room:
    """The room's description and counters (a small item: it is written on every message)."""

    room_id: str
    name: str
    open: bool
    created_by: str
    created_at: str
    seq: int = 0
    member_count: int = 0
    online_count: int = 0

    def wire(self, member_ids: frozenset[str]) -> dict[str, Any]:
        """The `room` frame's room; only createRoom sends it, so its members are known and few."""
        return {
            "roomId": self.room_id,
            "name": self.name,
            "open": self.open,
            "createdBy": self.created_by,
            "createdAt": self.created_at,
            "memberIds": sorted(member_ids),
        }


@dataclass(frozen=True)
class ConnectionEntry:
    """One open connection as the user's map and the member items list it (what the fan-out reads)."""

    # The epoch second its records expire (API Gateway closes the connection before that).
    expires_at: int
    # The epoch second its session ends: its token's expiry, moved by each `reauth`.
    session_expires_at: int

    def open(self, now: float) -> bool:
        return self.expires_at > now

    def in_session(self, now: float) -> bool:
        """Open and authenticated: the fan-out posts to it."""
        return self.open(now) and self.session_expires_at > now


@dataclass(frozen=True)
class Member:
    """A room's side of a membership: who, under which name, and the member's open connections."""

    user_id: str
    display_name: str
    joined_at: str
    connections: dict[str, ConnectionEntry] = field(default_factory=dict)
    indexed: bool = False  # in the online index (its item carries the key; dal/online.py)

    def live_connections(self, now: float) -> list[str]:
        """Open connections, in session or not (they make the member online)."""
        return [cid for cid, entry in self.connections.items() if entry.open(now)]

    def expired_connections(self, now: float) -> list[str]:
        return [cid for cid, entry in self.connections.items() if not entry.open(now)]

    def in_session(self, now: float) -> list[str]:
        """Open connections whose session has not ended: those that receive the room's traffic."""
        return [cid for cid, entry in self.connections.items() if entry.in_session(now)]

    def session_ended(self, now: float) -> list[str]:
        """Open connections whose token expired without a `reauth` (told once, then closed)."""
        return [
            cid for cid, entry in self.connections.items() if entry.open(now) and not entry.in_session(now)
        ]

    def online(self, now: float) -> bool:
        return bool(self.live_connections(now))


@dataclass(frozen=True)
class Membership:
    """A user's side of a room: what listRooms shows without reading every room in full."""

    room_id: str
    name: str
    open: bool
    joined_at: str
    last_read_seq: int
    # Seqs of messages that mention the user (those at or below the read position are pruned by markRead).
    mention_seqs: frozenset[int] = frozenset()

    @property
    def mention_count(self) -> int:
        return sum(1 for seq in self.mention_seqs if seq > self.last_read_seq)
