"""sendMessage and getMessages.

sendMessage costs four DynamoDB requests and one Lambda request whatever the room's size, and
writes only small items (docs/DATA_MODEL.md lists their write units):
  1. BatchGetItem: the sender's membership, the idempotency record and the sender's profile (the
     last two only when needed);
  2. UpdateItem ADD seq on the room item (well under 1 KB);
  3. TransactWriteItems: the message, its idempotency record and the sender's read position;
  4. PutItem: the room's last-message item, never moved backwards;
  5. SQS SendMessage to the FIFO queue (the room's message group): the fan-out function posts the
     message after the room's earlier ones; the ack does not wait for it.
A seq taken in (2) whose message is not stored in (3) (a crash, a concurrent duplicate, a member
leaving at that instant) is a gap: clients that see one call getMessages, which is authoritative.

Once (3) has stored the message it is delivered: a failure of (4) is logged and counted, never
returned. A failure of (5) (SQS refused it after boto3's retries) is an INTERNAL_ERROR: the client's
retry with the same clientMessageId (whose record exists) gets the stored ack and queues the
fan-out again; SQS drops a second copy queued within five minutes (the job's deduplication id is the
messageId), and clients de-duplicate by messageId any later one.
"""

from __future__ import annotations

import uuid

import metric_names
from chat.config import ChatSettings
from chat.dal import mentions, quotes
from chat.dal import messages as message_store
from chat.dal import rooms as room_store
from chat.dal.client import ConditionFailed
from chat.logic.rooms import ensure_member
from chat.models import budget, frames
from chat.models.domain import Ack, Caller, Message, Quote
from chat.models.errors import InternalError, MessageNotFound, NotAMember, RoomNotFound, VerificationRequired
from chat.models.requests import GetMessages, SendMessage
from chat.notify import Notifier, NotQueued
from chat.observability import count, logger
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
        reply_to=request.reply_to,
        mentions=request.mentions,
    )
    if settings.require_verified_sender and not context.sender_approved:
        raise VerificationRequired()
    if context.previous_ack is not None:
        return _deliver_again(context.previous_ack, caller, notifier)
    if not context.is_member:
        raise (
            NotAMember(request.room_id)
            if room_store.get(request.room_id) is not None
            else RoomNotFound(request.room_id)
        )
    if request.reply_to is not None and (context.parent is None or context.parent.deleted):
        raise MessageNotFound(request.room_id, request.reply_to)
    try:
        room = room_store.allocate_seq(request.room_id)
    except ConditionFailed as exc:
        raise RoomNotFound(request.room_id) from exc
    message = Message(
        room_id=request.room_id,
        message_id=str(uuid.uuid4()),
        seq=room.seq,
        sender_id=caller.user_id,
        content=request.content,
        created_at=iso(now),
        client_message_id=request.client_message_id,
        sender_name=caller.name,
        sent_from=caller.connection_id,
        reply_to=Quote.of(context.parent) if context.parent is not None else None,
        mentions=context.members_mentioned,
    )
    try:
        message_store.store(message, idempotency_ttl=int(now) + IDEMPOTENCY_TTL_SECONDS, now=now)
    except message_store.Duplicate:
        return _deliver_again(_stored_ack(request, caller), caller, notifier)
    except message_store.NoLongerMember as exc:
        raise NotAMember(request.room_id) from exc
    count(metric_names.MESSAGES_STORED)
    _note_mentions(message)
    _deliver(message, caller, notifier, member_count=room.member_count)
    return message.ack()


def _note_mentions(message: Message) -> None:
    """The mentioned members' unread-mention counts; a failure is logged and counted, not returned
    (the message is stored and carries its mentions; only `mentionCount` misses it)."""
    if not message.others_mentioned:
        return
    try:
        mentions.note(message.room_id, message.seq, message.others_mentioned)
    except Exception:
        logger.exception("could not count the message's mentions", extra={"room_id": message.room_id})
        count(metric_names.MENTION_COUNT_FAILURES)


def _deliver(
    message: Message, caller: Caller, notifier: Notifier, *, member_count: int | None = None
) -> None:
    """After the store: cache it for listRooms and queue its fan-out. A failed cache is not raised;
    a fan-out not queued is an INTERNAL_ERROR, which the client retries with its clientMessageId.
    Without `member_count` (a retry's), the fan-out reads the member items, whatever the room's size."""
    try:
        room_store.cache_last_message(message)
    except Exception:
        logger.exception("could not cache the room's last message", extra={"room_id": message.room_id})
        count(metric_names.LAST_MESSAGE_FAILURES)
    try:
        notifier.room(
            message.room_id,
            frames.message(message),
            must_queue=True,
            except_connection=caller.connection_id,
            member_count=member_count,
        )
    except NotQueued as exc:
        raise InternalError() from exc


def _deliver_again(ack: Ack, caller: Caller, notifier: Notifier) -> Ack:
    """A retry of a stored message: deliver it again (the first attempt may have stopped after the
    store), from the stored item, not the retry's content. A failed read raises: the client retries."""
    stored = message_store.get(ack.room_id, ack.seq)
    if stored is not None and not stored.deleted:  # a deleted one's room was told of its delete
        _deliver(quotes.resolved([stored])[0], caller, notifier)
    return ack


def history(caller: Caller, request: GetMessages) -> tuple[list[Message], bool]:
    """Up to `limit` messages in ascending seq, fewer when more would not fit the reply's byte budget,
    and whether more exist in the range.

    The page is taken from the side the client pages on, so a cut leaves out the far end: with
    `after`, the newest (the next page starts after the last one returned); otherwise the oldest
    (the next page is `before` the first one returned). Paging on returns every message once.
    """
    ensure_member(caller, request.room_id)
    found = message_store.in_page_order(
        request.room_id, after=request.after, before=request.before, most=request.limit + 1
    )
    page, has_more = budget.take(found, request.limit, Message.wire, reserve=_quote_room)
    page = quotes.resolved(page)
    return (page if request.after is not None else page[::-1]), has_more


def _quote_room(message: Message) -> int:
    """Bytes the page keeps for a reply's quote, which is read once the page is cut."""
    return budget.QUOTE_RESERVE_BYTES if message.reply_to is not None else 0


def _stored_ack(request: SendMessage, caller: Caller) -> Ack:
    """A concurrent attempt stored the message first: answer with its ack."""
    ack = None
    if request.client_message_id is not None:
        ack = message_store.previous_ack(request.room_id, caller.user_id, request.client_message_id)
    if ack is None:
        raise InternalError()
    return ack
