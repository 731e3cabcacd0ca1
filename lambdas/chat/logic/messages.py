"""sendMessage and getMessages.

sendMessage costs at most four DynamoDB requests whatever the room's size:
  1. BatchGetItem: the idempotency record and the sender's profile (only when either is needed);
  2. UpdateItem ADD seq on the room item, conditioned on membership, returning the room with its
     connection index (who to fan out to);
  3. TransactWriteItems: the message, its idempotency record and the sender's read position;
  4. UpdateItem: the room's last-message cache, never moved backwards.
A seq taken in (2) whose message is not stored in (3) (a crash, a concurrent duplicate, a member
leaving at that instant) is a gap: clients that see one call getMessages, which is authoritative.
"""

from __future__ import annotations

import uuid

import metric_names
from chat.config import Settings
from chat.dal import messages, rooms
from chat.dal.client import ConditionFailed
from chat.logic import ratelimit
from chat.logic.delivery import deliver
from chat.logic.rooms import ensure_member
from chat.models import frames
from chat.models.domain import Ack, Caller, Message
from chat.models.errors import InternalError, NotAMember, RateLimited, RoomNotFound, VerificationRequired
from chat.models.requests import GetMessages, SendMessage
from chat.observability import count
from chat.timeutil import iso

# A retry with the same clientMessageId within this time gets the original ack.
IDEMPOTENCY_TTL_SECONDS = 24 * 3600


def send(caller: Caller, request: SendMessage, *, settings: Settings, endpoint: str, now: float) -> Ack:
    if not ratelimit.allow(
        caller.connection_id, rate=settings.send_rate_per_second, burst=settings.send_burst, now=now
    ):
        raise RateLimited()
    context = messages.send_context(
        request.room_id,
        caller.user_id,
        request.client_message_id,
        want_profile=settings.require_verified_sender,
    )
    if settings.require_verified_sender and not context.sender_approved:
        raise VerificationRequired()
    if context.previous_ack is not None:
        return context.previous_ack
    try:
        room = rooms.allocate_seq(request.room_id, caller.user_id)
    except ConditionFailed as exc:
        if rooms.get(request.room_id) is None:
            raise RoomNotFound(request.room_id) from exc
        raise NotAMember(request.room_id) from exc
    message = Message(
        room_id=request.room_id,
        message_id=str(uuid.uuid4()),
        seq=room.seq,
        sender_id=caller.user_id,
        content=request.content,
        created_at=iso(now),
        client_message_id=request.client_message_id,
    )
    try:
        messages.store(message, idempotency_ttl=int(now) + IDEMPOTENCY_TTL_SECONDS)
    except messages.Duplicate:
        return _stored_ack(request, caller)
    except messages.NoLongerMember as exc:
        raise NotAMember(request.room_id) from exc
    count(metric_names.MESSAGES_STORED)
    rooms.cache_last_message(message)
    deliver(endpoint, room.audience(except_connection=caller.connection_id), frames.message(message))
    return message.ack()


def history(caller: Caller, request: GetMessages) -> tuple[list[Message], bool]:
    ensure_member(caller, request.room_id)
    return messages.page(request.room_id, after=request.after, before=request.before, limit=request.limit)


def _stored_ack(request: SendMessage, caller: Caller) -> Ack:
    """A concurrent retry stored the message first: answer with its ack."""
    ack = None
    if request.client_message_id is not None:
        ack = messages.previous_ack(request.room_id, caller.user_id, request.client_message_id)
    if ack is None:
        raise InternalError()
    return ack
