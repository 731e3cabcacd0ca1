"""createRoom: reserve a place on every member's rooms counter, write the room, then tell the members.

1. With a `clientRoomId`, its live record answers a retry with the same `room` frame (writing the
   room first if the earlier attempt stopped before it), and nothing new is reserved.
2. One transaction reserves a place on each member's counter within `max_rooms_per_user` (and writes
   the `clientRoomId` record): a user at the cap refuses the room, LIMIT_EXCEEDED, nothing written.
3. The member items, then the room and every membership in one transaction (dal/members.py). If that
   fails and the room is not there, the reservations (and the record) are given back.
4. After the room is written: the members' connections are read again and the `room` frame queued.
   A failure here is logged and counted, not returned: the room exists, a retry would make another.
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import metric_names
from chat.dal import connections, members, room_counts, room_creations
from chat.dal import rooms as room_store
from chat.dal.connections import UserConnections
from chat.logic import room_caps
from chat.logic.rooms import ensure_may_reach_others
from chat.models import frames
from chat.models.domain import Caller, Member, Membership, Room
from chat.models.errors import BadRequest
from chat.models.requests import MAX_INITIAL_MEMBER_IDS, CreateRoom
from chat.notify import Notifier
from chat.observability import count, logger
from chat.timeutil import iso

# A retry with the same clientRoomId within this time gets the same room.
IDEMPOTENCY_TTL_SECONDS = 24 * 3600


def create(
    caller: Caller,
    request: CreateRoom,
    *,
    notifier: Notifier,
    verified_only: bool,
    max_rooms: int,
    now: float,
) -> tuple[Room, frozenset[str]]:
    """The room with every member at once; the members' connections are told."""
    user_ids = frozenset({caller.user_id, *request.member_ids})
    if len(user_ids) > MAX_INITIAL_MEMBER_IDS + 1:
        raise BadRequest(f"memberIds holds at most {MAX_INITIAL_MEMBER_IDS} user ids besides yours")
    ensure_may_reach_others(caller, verified_only=verified_only)
    client_room_id = request.client_room_id
    if client_room_id is not None:
        previous = room_creations.get(caller.user_id, client_room_id, now)
        if previous is not None:
            return _complete(caller, *previous, notifier=notifier, now=now)
    room = Room(
        room_id=str(uuid.uuid4()),
        name=request.name,
        open=request.open,
        created_by=caller.user_id,
        created_at=iso(now),
        member_count=len(user_ids),
    )
    record = None
    if client_room_id is not None:
        ttl = int(now) + IDEMPOTENCY_TTL_SECONDS
        record = room_creations.putting(room, user_ids, client_room_id, ttl=ttl, now=now)
    try:
        _reserve(caller, sorted(user_ids), cap=max_rooms, now=now, record=record)
    except room_counts.AlsoRefused:
        # A concurrent attempt with the same clientRoomId wrote its record first: answer with its room.
        previous = room_creations.get(caller.user_id, str(client_room_id), now)
        if previous is None:  # it gave its record back meanwhile (its room failed): the client retries
            raise
        return _complete(caller, *previous, notifier=notifier, now=now)
    before = _write_or_give_back(caller, room, user_ids, client_room_id, now=now)
    _follow_up(caller, room, user_ids, before, notifier=notifier, now=now)
    return room, user_ids


def _reserve(
    caller: Caller, user_ids: list[str], *, cap: int, now: float, record: dict[str, Any] | None
) -> None:
    """A place on each user's counter; users at the cap are recounted once before refusing."""
    room_caps.within_cap(
        caller, lambda: room_counts.reserve(user_ids, cap=cap, now=now, also=record), cap=cap, now=now
    )


def _write_or_give_back(
    caller: Caller, room: Room, user_ids: frozenset[str], client_room_id: str | None, *, now: float
) -> dict[str, UserConnections]:
    """Write the room; if that fails and the room is not there, release what `_reserve` took."""
    try:
        return _write(caller, room, user_ids, now=now)
    except Exception:
        try:
            written = room_store.get(room.room_id) is not None
            if not written:
                also = room_creations.deleting(caller.user_id, client_room_id) if client_room_id else None
                room_counts.release(sorted(user_ids), also=also)
        except Exception:  # the counters stay above the count: harmless (room_counts.recount)
            logger.exception("createRoom could not give back its reservations")
            raise
        if not written:
            raise
    return {}  # the room is written though the request failed: `_follow_up` attaches every connection


def _write(caller: Caller, room: Room, user_ids: frozenset[str], *, now: float) -> dict[str, UserConnections]:
    """The member items (with the connections each member has now), then the room and memberships.

    Returns the connections it listed, for `_follow_up`."""
    before = connections.of_users(user_ids, now)
    names = {user_id: found.display_name for user_id, found in before.items()} | {caller.user_id: caller.name}
    room_members = [
        Member(
            user_id=user_id,
            display_name=names.get(user_id, ""),
            joined_at=room.created_at,
            connections=before[user_id].connections if user_id in before else {},
        )
        for user_id in sorted(user_ids)
    ]
    online = sum(1 for member in room_members if member.online(now))
    written = dataclasses.replace(room, online_count=online)
    membership = Membership(room.room_id, room.name, room.open, joined_at=room.created_at, last_read_seq=0)
    members.create_room(written, room_members, membership)
    return before


def _complete(
    caller: Caller, room: Room, user_ids: frozenset[str], *, notifier: Notifier, now: float
) -> tuple[Room, frozenset[str]]:
    """A retry of a `clientRoomId`: the same room, written now if its first attempt stopped short
    (its places on the counters are reserved already)."""
    if room_store.get(room.room_id) is None:
        try:
            before = _write(caller, room, user_ids, now=now)
        except members.RoomExists:
            return room, user_ids  # the first attempt, still running, wrote it meanwhile
        _follow_up(caller, room, user_ids, before, notifier=notifier, now=now)
    return room, user_ids


def _follow_up(
    caller: Caller,
    room: Room,
    user_ids: frozenset[str],
    before: dict[str, UserConnections],
    *,
    notifier: Notifier,
    now: float,
) -> None:
    """Connections that opened while the room was written join its member items; the members are told.

    A member connecting meanwhile writes its records before it reads its rooms, so either its connect
    or this second read sees the other. Failures are logged and counted: the room is written.
    """
    try:
        after = connections.of_users(user_ids, now)
        for user_id, found in after.items():
            listed = before[user_id].connections if user_id in before else {}
            for connection_id in set(found.connections) - set(listed):
                entry = found.connections[connection_id]
                members.attach(room.room_id, user_id, connection_id, entry, found.display_name, now)
        notifier.room(room.room_id, frames.room(room, user_ids), except_connection=caller.connection_id)
    except Exception:
        logger.exception("createRoom wrote the room, but telling its members failed")
        count(metric_names.ROOM_FOLLOW_UP_FAILURES)
