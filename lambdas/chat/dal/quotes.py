"""Replies' quotes, read from their parents as they are now.

A reply stores only its parent's seq and messageId. Whoever shows replies (a history page, the
rooms' last messages, a message posted again) reads the parents it does not hold already in one
BatchGetItem: an edit of the parent shows in every quote of it, and a deleted parent leaves no copy
of its content anywhere (its quotes say `deleted`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from chat.dal import keys
from chat.dal.client import batch_get
from chat.dal.messages import message_from_item
from chat.models.domain import Message, Quote

Place = tuple[str, int]  # (room id, seq)


def resolved(messages: list[Message], *, known: Iterable[Message] = ()) -> list[Message]:
    """`messages` with each reply's quote read from its parent; parents among `messages` or `known`
    are not read again. No request when no message is an unread reply."""
    pending = [m for m in messages if m.reply_to is not None and not m.reply_to.resolved]
    if not pending:
        return messages
    parents: dict[Place, Message] = {(m.room_id, m.seq): m for m in (*messages, *known)}
    missing = {(m.room_id, m.reply_to.seq) for m in pending if m.reply_to is not None} - parents.keys()
    for item in batch_get([keys.message(room_id, seq) for room_id, seq in sorted(missing)]):
        parent = message_from_item(item)
        parents[(parent.room_id, parent.seq)] = parent
    return [_quoting(message, parents) for message in messages]


def _quoting(message: Message, parents: dict[Place, Message]) -> Message:
    quote = message.reply_to
    if quote is None or quote.resolved:
        return message
    parent = parents.get((message.room_id, quote.seq))
    if parent is None or parent.message_id != quote.message_id:  # never stored otherwise: shown gone
        return replace(message, reply_to=replace(quote, deleted=True))
    return replace(message, reply_to=Quote.of(parent))
