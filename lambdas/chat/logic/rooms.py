"""Rooms: create, join, leave, list, read positions and typing notices."""

from __future__ import annotations

import uuid

from chat.dal import connections, rooms
from chat.dal.client import ConditionFailed
from chat.logic.delivery import deliver
from chat.models import frames
from chat.models.domain import Caller, Membership, Room
from chat.models.errors import BadRequest, Forbidden, NotAMember, RoomNotFound
from chat.models.requests import MAX_INITIAL_MEMBER_IDS, CreateRoom
from chat.timeutil import iso


def create(caller: Caller, request: CreateRoom, *, endpoint: str, now: float) -> Room:
    """Write the room with every member's membership at once, then index and notify their connections.

    The caller's connection is indexed with the room itself. The members' connections are read after
    the room is written, and a connecting member's records are written before it reads its rooms, so
    one of the two always sees the other.
    """
    members = frozenset({caller.user_id, *request.member_ids})
    if len(members) > MAX_INITIAL_MEMBER_IDS + 1:
        raise BadRequest(f"memberIds holds at most {MAX_INITIAL_MEMBER_IDS} user ids besides yours")
    created_at = iso(now)
    room = Room(
        room_id=str(uuid.uuid4()),
        name=request.name,
        open=request.open,
        created_by=caller.user_id,
        created_at=created_at,
        member_ids=members,
        connections={caller.connection_id: caller.user_id},
    )
    membership = Membership(room.room_id, room.name, room.open, joined_at=created_at, last_read_seq=0)
    rooms.create(room, [(member, membership) for member in sorted(members)])
    audience = {
        connection_id: member
        for member, connection_ids in connections.of_users(members).items()
        for connection_id in connection_ids
    }
    audience.pop(caller.connection_id, None)
    rooms.index_connections(room.room_id, audience)
    deliver(endpoint, audience, frames.room(room))
    return room


def join(caller: Caller, room_id: str, *, endpoint: str, now: float) -> None:
    """Join an open room (or one that lists the caller); a member joining again changes nothing."""
    room = _existing(room_id)
    if caller.user_id in room.member_ids:
        return
    if not room.open:
        raise Forbidden("this room is closed: only its members may enter it")
    if len(room.member_ids) >= rooms.MAX_MEMBERS:
        raise Forbidden(f"this room is full ({rooms.MAX_MEMBERS} members)")
    mine = {caller.connection_id, *connections.of_user(caller.user_id)}
    membership = Membership(room.room_id, room.name, room.open, joined_at=iso(now), last_read_seq=room.seq)
    try:
        rooms.join(room_id, caller.user_id, membership, mine)
    except ConditionFailed as exc:
        raise Forbidden(f"this room is full ({rooms.MAX_MEMBERS} members)") from exc
    audience = room.audience() | dict.fromkeys(mine - {caller.connection_id}, caller.user_id)
    deliver(endpoint, audience, frames.member_joined(room_id, caller.user_id))


def leave(caller: Caller, room_id: str, *, endpoint: str) -> None:
    """Leave a room: the others and the caller's other connections are told."""
    room = _member_of(caller, room_id)
    mine = {c for c, user in room.connections.items() if user == caller.user_id} | {caller.connection_id}
    try:
        rooms.leave(room_id, caller.user_id, sorted(mine))
    except ConditionFailed as exc:
        raise NotAMember(room_id) from exc
    audience = room.audience(except_user=caller.user_id) | dict.fromkeys(
        mine - {caller.connection_id}, caller.user_id
    )
    deliver(endpoint, audience, frames.member_left(room_id, caller.user_id))


def listing(caller: Caller) -> list[tuple[Membership, Room | None]]:
    """The caller's rooms, most recently active first, each with its room's last-message cache."""
    memberships = rooms.memberships(caller.user_id)
    current = rooms.summaries([m.room_id for m in memberships])
    items = [(m, current.get(m.room_id)) for m in memberships]

    def recency(item: tuple[Membership, Room | None]) -> str:
        membership, room = item
        last = room.last_message if room is not None else None
        return last.created_at if last is not None else membership.joined_at

    return sorted(items, key=recency, reverse=True)


def mark_read(caller: Caller, room_id: str, seq: int, *, endpoint: str) -> int:
    """Move the caller's read position forward (never back); the room hears of it when it moved."""
    room = _member_of(caller, room_id)
    if seq > room.seq:
        raise BadRequest(f"seq {seq} is beyond the room's last message ({room.seq})")
    result = rooms.mark_read(caller.user_id, room_id, seq)
    if result is None:
        raise NotAMember(room_id)
    position, moved = result
    if moved:
        deliver(
            endpoint,
            room.audience(except_connection=caller.connection_id),
            frames.read(room_id, caller.user_id, seq),
        )
    return position


def typing(caller: Caller, room_id: str, *, endpoint: str) -> None:
    """Tell the other members that the caller is typing (nothing is stored)."""
    room = _member_of(caller, room_id)
    deliver(endpoint, room.audience(except_user=caller.user_id), frames.typing(room_id, caller.user_id))


def ensure_member(caller: Caller, room_id: str) -> None:
    """A read of the caller's (small) membership item; the room is read only to explain a refusal."""
    if rooms.membership(caller.user_id, room_id) is None:
        raise NotAMember(room_id) if rooms.get(room_id) is not None else RoomNotFound(room_id)


def _existing(room_id: str) -> Room:
    room = rooms.get(room_id)
    if room is None:
        raise RoomNotFound(room_id)
    return room


def _member_of(caller: Caller, room_id: str) -> Room:
    room = _existing(room_id)
    if caller.user_id not in room.member_ids:
        raise NotAMember(room_id)
    return room
