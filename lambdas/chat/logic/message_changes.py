"""editMessage and deleteMessage: a stored message changes in place; its seq never moves.

Each costs one BatchGetItem (the room, the caller's membership, the message, the room's last-message
item and, where senders must be verified, the caller's profile), its writes (docs/DATA_MODEL.md)
and one SQS SendMessage, whatever the room's size. The room hears of the change in the room's order
(its FIFO message group), after the message itself; a change that could not be queued is logged and
counted, not returned: it is stored, and history and a resume show it.
"""

from __future__ import annotations

from dataclasses import dataclass

import metric_names
from chat.dal import mentions, message_changes
from chat.dal.client import ConditionFailed
from chat.models import frames
from chat.models.domain import Caller, Message, Room
from chat.models.errors import Forbidden, MessageNotFound, NotAMember, RoomNotFound, VerificationRequired
from chat.models.requests import EditMessage, MessageRequest
from chat.notify import Notifier
from chat.observability import count, logger
from chat.timeutil import epoch, iso


@dataclass(frozen=True)
class Known:
    """What a change read of its room and message, the caller being a member."""

    room: Room
    message: Message | None  # None: no message with that seq
    last_seq: int | None  # the seq of the room's last-message item


# A delete repeated by its deleter this soon after it is taken for a retry whose answer was lost.
RETRY_WINDOW_SECONDS = 300


def edit(
    caller: Caller, request: EditMessage, *, notifier: Notifier, verified_only: bool, now: float
) -> Message:
    """The message's next version, by its sender; every member's connections but the sending one hear it."""
    found = _target(caller, request.room_id, request.seq, verified_only=verified_only)
    room, message = found.room, found.message
    if message is None:
        raise MessageNotFound(request.room_id, request.seq)
    if message.sender_id != caller.user_id:
        raise Forbidden("only its sender may edit a message")
    if message.deleted:
        raise MessageNotFound(request.room_id, request.seq)
    try:
        edited = message_changes.edit(
            request.room_id,
            request.seq,
            sender_id=caller.user_id,
            content=request.content,
            edited_at=iso(now),
        )
    except ConditionFailed as exc:  # deleted since it was read
        raise MessageNotFound(request.room_id, request.seq) from exc
    count(metric_names.MESSAGES_EDITED)
    _cache_last(edited)
    notifier.room(
        request.room_id,
        frames.message_edited(edited),
        except_connection=caller.connection_id,
        member_count=room.member_count,
    )
    return edited


def delete(caller: Caller, request: MessageRequest, *, notifier: Notifier, now: float) -> Message:
    """Replace the message by its tombstone, by its sender; every member's connections hear it.

    A message deleted already is answered the same, and nobody is told again, unless its deleter
    repeats the delete within RETRY_WINDOW_SECONDS: a retry whose answer was lost (the first attempt
    may have stopped after the write, before the room was told). A second `messageDeleted` changes
    nothing for a client: a tombstone is final.
    """
    found = _target(caller, request.room_id, request.seq, verified_only=False)
    room, message = found.room, found.message
    if message is None:
        raise MessageNotFound(request.room_id, request.seq)
    if message.sender_id != caller.user_id:
        raise Forbidden("only its sender may delete a message")
    if not message.deleted:
        try:
            tombstone = message_changes.delete(
                message, last_seq=found.last_seq, deleted_by=caller.user_id, deleted_at=iso(now)
            )
            count(metric_names.MESSAGES_DELETED)
            _forget_mentions(message)
            message = tombstone
        except ConditionFailed:  # a concurrent delete did it: its own attempt tells the room
            return message
    elif not _retried_by(message, caller, now):
        return message
    notifier.room(request.room_id, frames.message_deleted(message), member_count=room.member_count)
    return message


def _target(caller: Caller, room_id: str, seq: int, *, verified_only: bool) -> Known:
    """What the change reads, once the caller is known to be a member (and, with `verified_only`, an
    approved sender: checked first, as docs/PROTOCOL.md orders the checks)."""
    found = message_changes.target(room_id, seq, caller.user_id, want_profile=verified_only)
    if verified_only and not found.sender_approved:
        raise VerificationRequired()
    if found.room is None:
        raise RoomNotFound(room_id)
    if not found.is_member:
        raise NotAMember(room_id)
    return Known(found.room, found.message, found.last_seq)


def _retried_by(tombstone: Message, caller: Caller, now: float) -> bool:
    return (
        tombstone.deleted_by == caller.user_id
        and tombstone.deleted_at is not None
        and now - epoch(tombstone.deleted_at) <= RETRY_WINDOW_SECONDS
    )


def _forget_mentions(message: Message) -> None:
    """A deleted message no longer counts in its mentioned members' `mentionCount`; a failure is
    logged and counted (the count is off until those members read past it)."""
    if not message.others_mentioned:
        return
    try:
        mentions.forget(message.room_id, message.seq, message.others_mentioned)
    except Exception:
        logger.exception("could not uncount the message's mentions", extra={"room_id": message.room_id})
        count(metric_names.MENTION_COUNT_FAILURES)


def _cache_last(edited: Message) -> None:
    """listRooms' copy; a failure is logged and counted, never returned (the edit is stored)."""
    try:
        message_changes.cache_edit(edited)
    except Exception:
        logger.exception("could not cache the room's last message", extra={"room_id": edited.room_id})
        count(metric_names.LAST_MESSAGE_FAILURES)
