"""Server frames: every frame the functions send, built in one place so the shapes match PROTOCOL.md."""

from __future__ import annotations

from typing import Any

from chat.models.domain import Ack, Member, Membership, Message, Room
from chat.models.errors import ChatError

ServerFrame = dict[str, Any]


def error(err: ChatError, *, action: str | None) -> ServerFrame:
    frame: ServerFrame = {
        "type": "error",
        "code": err.code,
        "message": err.message,
        "retryable": err.retryable,
    }
    if action is not None:
        frame["action"] = action
    return frame


def room(value: Room, member_ids: frozenset[str]) -> ServerFrame:
    return {"type": "room", "room": value.wire(member_ids)}


def joined(room_id: str) -> ServerFrame:
    return {"type": "joined", "roomId": room_id}


def left(room_id: str) -> ServerFrame:
    return {"type": "left", "roomId": room_id}


def member_joined(room_id: str, user_id: str, display_name: str) -> ServerFrame:
    return {"type": "memberJoined", "roomId": room_id, "userId": user_id, "displayName": display_name}


def member_left(room_id: str, user_id: str) -> ServerFrame:
    return {"type": "memberLeft", "roomId": room_id, "userId": user_id}


def rooms(items: list[tuple[Membership, Room | None, Message | None]], cursor: str | None) -> ServerFrame:
    """`rooms`: a page of the caller's rooms, and the cursor of the next page (None: the last page)."""
    return {"type": "rooms", "items": [room_listing(*item) for item in items], "cursor": cursor}


def room_listing(membership: Membership, current: Room | None, last: Message | None) -> dict[str, Any]:
    """One `rooms` item: the membership with its room's counts, last message and the unread count."""
    return {
        "roomId": membership.room_id,
        "name": membership.name,
        "open": membership.open,
        "lastMessage": last.wire() if last is not None else None,
        "lastReadSeq": membership.last_read_seq,
        "unreadCount": max(0, last.seq - membership.last_read_seq) if last is not None else 0,
        "mentionCount": membership.mention_count,
        "memberCount": current.member_count if current is not None else 0,
        "onlineCount": current.online_count if current is not None else 0,
    }


def members(room_id: str, items: list[Member], cursor: str | None, *, now: float) -> ServerFrame:
    listed = [{"userId": m.user_id, "displayName": m.display_name, "online": m.online(now)} for m in items]
    return {"type": "members", "roomId": room_id, "items": listed, "cursor": cursor}


def presence(room_id: str, user_id: str, display_name: str, online: bool) -> ServerFrame:
    return {
        "type": "presence",
        "roomId": room_id,
        "userId": user_id,
        "displayName": display_name,
        "online": online,
    }


def ack(value: Ack) -> ServerFrame:
    return {"type": "ack", **value.wire()}


def message(value: Message) -> ServerFrame:
    return {"type": "message", **value.wire()}


def edited(value: Message) -> ServerFrame:
    """The editor's reply: the version its edit made."""
    return {
        "type": "edited",
        "roomId": value.room_id,
        "seq": value.seq,
        "messageId": value.message_id,
        "version": value.version,
        "editedAt": value.edited_at,
    }


def message_edited(value: Message) -> ServerFrame:
    """A message's new version, for every member's connections (a client keeps the highest version)."""
    return {
        "type": "messageEdited",
        "roomId": value.room_id,
        "seq": value.seq,
        "messageId": value.message_id,
        "senderId": value.sender_id,
        "displayName": value.sender_name,
        "content": value.content,
        "version": value.version,
        "editedAt": value.edited_at,
    }


def deleted(value: Message) -> ServerFrame:
    """The deleter's reply: enough to show the tombstone without waiting for `messageDeleted`."""
    return {
        "type": "deleted",
        "roomId": value.room_id,
        "seq": value.seq,
        "messageId": value.message_id,
        "deletedAt": value.deleted_at,
        "deletedBy": value.deleted_by,
    }


def message_deleted(value: Message) -> ServerFrame:
    """A tombstone, for every member's connections: final (a later frame for its seq is ignored).
    It carries what a history tombstone does, so it can fill a seq the client never held."""
    frame: ServerFrame = {
        "type": "messageDeleted",
        "roomId": value.room_id,
        "seq": value.seq,
        "messageId": value.message_id,
        "senderId": value.sender_id,
        "createdAt": value.created_at,
        "deletedAt": value.deleted_at,
        "deletedBy": value.deleted_by,
    }
    if value.sender_name:
        frame["displayName"] = value.sender_name
    return frame


def messages(room_id: str, items: list[Message], has_more: bool) -> ServerFrame:
    return {"type": "messages", "roomId": room_id, "items": [m.wire() for m in items], "hasMore": has_more}


def read_marked(room_id: str, seq: int) -> ServerFrame:
    return {"type": "readMarked", "roomId": room_id, "seq": seq}


def read(room_id: str, user_id: str, display_name: str, seq: int) -> ServerFrame:
    return {"type": "read", "roomId": room_id, "userId": user_id, "displayName": display_name, "seq": seq}


def typing(room_id: str, user_id: str, display_name: str) -> ServerFrame:
    return {"type": "typing", "roomId": room_id, "userId": user_id, "displayName": display_name}


def pong() -> ServerFrame:
    return {"type": "pong"}


def identity(
    *, user_id: str, username: str, email: str | None, connection_id: str, expires_at: str
) -> ServerFrame:
    frame: ServerFrame = {"type": "identity", "userId": user_id, "username": username}
    if email:
        frame["email"] = email
    frame.update(connectionId=connection_id, expiresAt=expires_at)
    return frame


def reauthenticated(expires_at: str) -> ServerFrame:
    return {"type": "reauthenticated", "expiresAt": expires_at}


def session_expired(expires_at: str, closes_at: str) -> ServerFrame:
    """Sent once per expiry to a connection whose token expired: `reauth` before `closesAt`."""
    return {"type": "sessionExpired", "expiresAt": expires_at, "closesAt": closes_at}
