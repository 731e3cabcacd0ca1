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


@dataclass(frozen=True)
class Connection:
    connection_id: str
    user_id: str
    token_expires_at: int


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

    def wire(self) -> dict[str, Any]:
        """The message as the `message` frame and `lastMessage` carry it: its ack, its sender and content."""
        return {**self.ack().wire(), "senderId": self.sender_id, "content": self.content}


@dataclass(frozen=True)
class Room:
    room_id: str
    name: str
    open: bool
    created_by: str
    created_at: str
    member_ids: frozenset[str]
    seq: int = 0
    last_message: Message | None = None
    # The room's connection index: connection id -> user id of every member's live connection.
    connections: dict[str, str] = field(default_factory=dict)

    def wire(self) -> dict[str, Any]:
        return {
            "roomId": self.room_id,
            "name": self.name,
            "open": self.open,
            "createdBy": self.created_by,
            "createdAt": self.created_at,
            "memberIds": sorted(self.member_ids),
        }

    def audience(
        self, *, except_connection: str | None = None, except_user: str | None = None
    ) -> dict[str, str]:
        """Connections to fan out to: members' only (an index entry left behind by a race is skipped)."""
        return {
            connection_id: user_id
            for connection_id, user_id in self.connections.items()
            if user_id in self.member_ids and connection_id != except_connection and user_id != except_user
        }


@dataclass(frozen=True)
class Membership:
    """A user's side of a room: what listRooms shows without reading every room in full."""

    room_id: str
    name: str
    open: bool
    joined_at: str
    last_read_seq: int
