"""Rooms: join, leave, list, members, read positions and typing (createRoom: logic/room_creation.py)."""

from __future__ import annotations

from chat.dal import connections, members, profiles
from chat.dal import rooms as room_store
from chat.dal.client import ConditionFailed
from chat.logic import room_caps
from chat.models import budget, frames
from chat.models.domain import Caller, Member, Membership, Message, Room
from chat.models.errors import BadRequest, Forbidden, NotAMember, RoomNotFound, VerificationRequired
from chat.notify import Notifier
from chat.timeutil import iso


def ensure_may_reach_others(caller: Caller, *, verified_only: bool) -> None:
    """Where verified senders are required, only an approved user's text or people reach others."""
    if verified_only and not profiles.is_approved(caller.user_id):
        raise VerificationRequired()


def join(
    caller: Caller, room_id: str, *, notifier: Notifier, max_members: int, max_rooms: int, now: float
) -> None:
    """Join an open room (or one that lists the caller); a member joining again changes nothing.

    Over the caller's rooms cap: LIMIT_EXCEEDED, once its counter is recounted (logic/room_caps.py)."""
    room, membership = _room_and_membership(caller, room_id)
    if membership is not None:
        return
    if not room.open:
        raise Forbidden("this room is closed: only its members may enter it")
    if room.member_count >= max_members:
        raise Forbidden(f"this room is full ({max_members} members)")
    mine = connections.of_user(caller.user_id, now)
    member = Member(caller.user_id, caller.name, joined_at=iso(now), connections=mine)
    joined = Membership(room.room_id, room.name, room.open, joined_at=iso(now), last_read_seq=room.seq)
    try:
        room_caps.within_cap(
            caller,
            lambda: members.join(
                room_id, member, joined, online=True, max_members=max_members, max_rooms=max_rooms
            ),
            cap=max_rooms,
            now=now,
        )
    except ConditionFailed as exc:
        raise Forbidden(f"this room is full ({max_members} members)") from exc
    except members.AlreadyMember:
        return
    notifier.about_people(
        room,
        frames.member_joined(room_id, caller.user_id, caller.name),
        except_connection=caller.connection_id,
    )


def leave(caller: Caller, room_id: str, *, notifier: Notifier, now: float) -> None:
    """Leave a room: the others and the caller's other connections are told."""
    room = _existing(room_id)
    member = members.member(room_id, caller.user_id)
    if member is None:
        raise NotAMember(room_id)
    try:
        _leave(room_id, caller.user_id, was_online=member.online(now), now=now)
    except ConditionFailed as exc:
        raise NotAMember(room_id) from exc
    mine = dict.fromkeys(set(member.in_session(now)) - {caller.connection_id}, caller.user_id)
    frame = frames.member_left(room_id, caller.user_id)
    if room.member_count <= notifier.presence_max_members:
        notifier.room(room_id, frame, extra=mine)
    else:
        notifier.connections(mine, frame)


def _leave(room_id: str, user_id: str, *, was_online: bool, now: float) -> None:
    try:
        members.leave(room_id, user_id, was_online=was_online)
    except members.CountMissing:  # a user from before the counters: count, then leave
        room_caps.recount([user_id], now)
        members.leave(room_id, user_id, was_online=was_online)


def listing(
    caller: Caller, *, after: str | None, limit: int
) -> tuple[list[tuple[Membership, Room | None, Message | None]], str | None]:
    """A page of the caller's rooms, most recently active first, and the room id the next page
    starts after (None: this is the last page).

    Pages walk the rooms in room-id order, so each room is on exactly one page; a page ends at
    `limit` rooms or at the reply's byte budget (each item carries its last message), whichever
    comes first.
    """
    memberships, more = members.membership_page(caller.user_id, after=after, limit=limit)
    page, cut = budget.take(room_store.listed(memberships), limit, lambda item: frames.room_listing(*item))
    more = more or cut

    def recency(item: tuple[Membership, Room | None, Message | None]) -> str:
        membership, _, last = item
        return last.created_at if last is not None else membership.joined_at

    return sorted(page, key=recency, reverse=True), (page[-1][0].room_id if more else None)


def member_page(
    caller: Caller, room_id: str, *, cursor: str | None, limit: int
) -> tuple[list[Member], str | None]:
    """A page of the room's members (members only), in user-id order."""
    ensure_member(caller, room_id)
    return members.page(room_id, after=cursor, limit=limit)


def mark_read(caller: Caller, room_id: str, seq: int, *, notifier: Notifier) -> int:
    """Move the caller's read position forward (never back); the room hears of it when it moved."""
    room, membership = _room_and_membership(caller, room_id)
    if membership is None:
        raise NotAMember(room_id)
    if seq > room.seq:
        raise BadRequest(f"seq {seq} is beyond the room's last message ({room.seq})")
    read_mentions = frozenset(s for s in membership.mention_seqs if s <= seq)
    result = members.mark_read(caller.user_id, room_id, seq, read_mentions=read_mentions)
    if result is None:
        raise NotAMember(room_id)
    position, moved = result
    if moved:
        notifier.about_people(
            room,
            frames.read(room_id, caller.user_id, caller.name, seq),
            except_connection=caller.connection_id,
        )
    return position


def typing(caller: Caller, room_id: str, *, notifier: Notifier, verified_only: bool) -> None:
    """Tell the other members that the caller is typing (nothing is stored)."""
    ensure_may_reach_others(caller, verified_only=verified_only)
    room, membership = _room_and_membership(caller, room_id)
    if membership is None:
        raise NotAMember(room_id)
    notifier.about_people(
        room, frames.typing(room_id, caller.user_id, caller.name), ordered=False, except_user=caller.user_id
    )


def ensure_member(caller: Caller, room_id: str) -> None:
    """A read of the caller's (small) membership item; the room is read only to explain a refusal."""
    if members.membership(caller.user_id, room_id) is None:
        raise NotAMember(room_id) if room_store.get(room_id) is not None else RoomNotFound(room_id)


def _room_and_membership(caller: Caller, room_id: str) -> tuple[Room, Membership | None]:
    """The room and the caller's membership in one BatchGetItem. Raises RoomNotFound."""
    room, membership = members.room_and_membership(room_id, caller.user_id)
    if room is None:
        raise RoomNotFound(room_id)
    return room, membership


def _existing(room_id: str) -> Room:
    room = room_store.get(room_id)
    if room is None:
        raise RoomNotFound(room_id)
    return room
