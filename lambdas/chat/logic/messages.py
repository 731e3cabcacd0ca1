"""sendMessage and getMessages.

sendMessage costs four DynamoDB requests and one Lambda request whatever the room's size, and
writes only small items (docs/DATA_MODEL.md lists their write units):
  1. BatchGetItem: the sender's membership, the idempotency record and the sender's profile (the
     last two only when needed);
  2. UpdateItem ADD seq on the room item (well under 1 KB);
  3. TransactWriteItems: the message, its idempotency record and the sender's read position;
  4. PutItem: the room's last-message item, never moved backwards;
  5. Lambda Invoke (asynchronous): the fan-out function posts the message; the ack does not wait.
A seq taken in (2) whose message is not stored in (3) (a crash, a concurrent duplicate, a member
leaving at that instant) is a gap: clients that see one call getMessages, which is authoritative.
"""

from __future__ import annotations

import uuid

import metric_names
from chat.config import ChatSettings
from chat.dal import messages as message_store
from chat.dal import rooms as room_store
from chat.dal.client import ConditionFailed
from chat.logic.rooms import ensure_member
from chat.models import frames
from chat.models.domain import Ack, Caller, Message
from chat.models.errors import InternalError, NotAMember, RoomNotFound, VerificationRequired
from chat.models.requests import GetMessages, SendMessage
from chat.notify import Notifier
from chat.observability import count
from chat.timeutil import iso

# A retry with the same clientMessageId within this time gets the original ack.
IDEMPOTENCY_TTL_SECONDS = 24 * 3600


def send(
    caller: Caller, request: SendMessage, *, settings: ChatSettings, notifier: Notifier, now: float
) -> Ack:
    context = message_store.send_context(
        request.room_id,
        caller.user_id,
        request.client_message_id,
        want_profile=settings.require_verified_sender,
    )
    if settings.require_verified_sender and not context.sender_approved:
        raise VerificationRequired()
    if context.previous_ack is not None:
        return context.previous_ack
    if not context.is_member:
        raise (
            NotAMember(request.room_id)
            if room_store.get(request.room_id) is not None
            else RoomNotFound(request.room_id)
        )
    try:
        seq = room_store.allocate_seq(request.room_id)
    except ConditionFailed as exc:
        raise RoomNotFound(request.room_id) from exc
    message = Message(
        room_id=request.room_id,
        message_id=str(uuid.uuid4()),
        seq=seq,
        sender_id=caller.user_id,
        content=request.content,
        created_at=iso(now),
        client_message_id=request.client_message_id,
        sender_name=caller.name,
    )
    try:
        message_store.store(message, idempotency_ttl=int(now) + IDEMPOTENCY_TTL_SECONDS, now=now)
    except message_store.Duplicate:
        return _stored_ack(request, caller)
    except message_store.NoLongerMember as exc:
        raise NotAMember(request.room_id) from exc
    count(metric_names.MESSAGES_STORED)
    room_store.cache_last_message(message)
    notifier.room(request.room_id, frames.message(message), except_connection=caller.connection_id)
    return message.ack()


def history(caller: Caller, request: GetMessages) -> tuple[list[Message], bool]:
    ensure_member(caller, request.room_id)
    return message_store.page(
        request.room_id, after=request.after, before=request.before, limit=request.limit
    )


def _stored_ack(request: SendMessage, caller: Caller) -> Ack:
    """A concurrent retry stored the message first: answer with its ack."""
    ack = None
    if request.client_message_id is not None:
        ack = message_store.previous_ack(request.room_id, caller.user_id, request.client_message_id)
    if ack is None:
        raise InternalError()
    return ack
