"""Edits and deletes of stored messages: the message item and the room's last-message copy of it.

A message keeps only its newest version (no edit history is stored). A delete replaces the item by a
tombstone (its seq, messageId, sender and times; no content) and, in the same transaction, the room's
`LAST` item when that is this message or an older one: no crash leaves the content in either, and a
send's late copy of the message into `LAST` (which never moves it backwards) cannot bring it back.
When a later message is the room's last (read with the message), the tombstone is a plain put.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from botocore.exceptions import ClientError

from chat.dal import keys, rooms
from chat.dal.client import (
    ConditionFailed,
    TransactionCancelled,
    batch_get,
    is_condition_failure,
    table,
    table_name,
    transact,
)
from chat.dal.messages import message_from_item, message_item
from chat.dal.profiles import APPROVED
from chat.models.domain import Message, Room


@dataclass(frozen=True)
class Target:
    """What one BatchGetItem tells a change before it writes: the room, the caller's membership, the
    message and (when asked) whether the caller is an approved sender."""

    room: Room | None
    is_member: bool
    message: Message | None
    sender_approved: bool | None
    last_seq: int | None  # the seq of the room's `LAST` item (None: there is none)


def target(room_id: str, seq: int, user_id: str, *, want_profile: bool) -> Target:
    wanted = [
        keys.room(room_id),
        keys.membership(user_id, room_id),
        keys.message(room_id, seq),
        keys.last_message(room_id),
    ]
    if want_profile:
        wanted.append(keys.profile(user_id))
    found = {(str(item["PK"]), str(item["SK"])): item for item in batch_get(wanted)}

    def get(key: dict[str, Any]) -> dict[str, Any] | None:
        return found.get((str(key["PK"]), str(key["SK"])))

    room, message, last, profile = get(wanted[0]), get(wanted[2]), get(wanted[3]), get(keys.profile(user_id))
    return Target(
        room=rooms.from_item(room) if room else None,
        is_member=get(wanted[1]) is not None,
        message=message_from_item(message) if message else None,
        sender_approved=(profile is not None and profile.get("verificationStatus") == APPROVED)
        if want_profile
        else None,
        last_seq=int(last["seq"]) if last else None,
    )


def edit(room_id: str, seq: int, *, sender_id: str, content: str, edited_at: str) -> Message:
    """The message's next version, by its sender only. Raises ConditionFailed when the message is
    gone, deleted or someone else's (the caller read it before, so it knows which)."""
    try:
        updated = table().update_item(
            Key=keys.message(room_id, seq),
            UpdateExpression="SET content = :c, editedAt = :t, version = if_not_exists(version, :one) + :one",
            ConditionExpression="attribute_exists(PK) AND senderId = :me AND attribute_not_exists(deletedAt)",
            ExpressionAttributeValues={":c": content, ":t": edited_at, ":one": 1, ":me": sender_id},
            ReturnValues="ALL_NEW",  # billed by the item's size either way
        )["Attributes"]
    except ClientError as exc:
        if is_condition_failure(exc):
            raise ConditionFailed(room_id, seq) from exc
        raise
    return message_from_item(updated)


def cache_edit(message: Message) -> None:
    """Put the edited message in the room's `LAST` item when it is the room's last message (or newer
    than the one there), never over a newer version, a later message or a tombstone."""
    try:
        table().put_item(
            Item={**keys.last_message(message.room_id), **message_item(message)},
            ConditionExpression=(
                "attribute_not_exists(PK) OR seq < :seq OR (seq = :seq AND attribute_not_exists(deletedAt)"
                " AND (attribute_not_exists(version) OR version < :v))"
            ),
            ExpressionAttributeValues={":seq": message.seq, ":v": message.version},
        )
    except ClientError as exc:
        if not is_condition_failure(exc):
            raise


def delete(message: Message, *, last_seq: int | None, deleted_by: str, deleted_at: str) -> Message:
    """Replace the message by its tombstone, and the room's `LAST` item too when it holds this message
    or an older one (`last_seq`, as read before), in one transaction. Returns the tombstone; raises
    ConditionFailed when the message was deleted meanwhile (nothing written)."""
    tombstone = replace(
        message,
        content="",
        deleted_at=deleted_at,
        deleted_by=deleted_by,
        edited_at=None,
        reply_to=None,
        mentions=(),
    )
    stored = message_item(tombstone)
    name = table_name()
    writes: list[dict[str, Any]] = [
        {
            "Put": {
                "TableName": name,
                "Item": {**keys.message(message.room_id, message.seq), **stored},
                "ConditionExpression": "attribute_exists(PK) AND attribute_not_exists(deletedAt)",
            }
        },
        {
            "Put": {
                "TableName": name,
                "Item": {**keys.last_message(message.room_id), **stored},
                "ConditionExpression": "attribute_not_exists(PK) OR seq <= :seq",
                "ExpressionAttributeValues": {":seq": message.seq},
            }
        },
    ]
    try:
        if last_seq is None or last_seq <= message.seq:
            transact(writes)
            return tombstone
    except TransactionCancelled as exc:
        if exc.reasons[:1] == ["ConditionalCheckFailed"]:
            raise ConditionFailed(message.room_id, message.seq) from exc
        if exc.reasons[1:2] != ["ConditionalCheckFailed"]:
            raise
    # A later message is the room's last (or became it since it was read): only the message item
    # becomes the tombstone.
    put = writes[0]["Put"]
    try:
        table().put_item(Item=put["Item"], ConditionExpression=put["ConditionExpression"])
    except ClientError as exc:
        if is_condition_failure(exc):
            raise ConditionFailed(message.room_id, message.seq) from exc
        raise
    return tombstone
