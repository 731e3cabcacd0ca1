"""Messages (one item each, keyed by seq), their idempotency records, and the sender-profile read."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from chat.dal import keys
from chat.dal.client import TransactionCancelled, alive, batch_get, table, table_name, transact
from chat.dal.profiles import APPROVED
from chat.models.domain import Ack, Message, Quote

# Items the first Query of a history page asks for (16 of the longest messages are about 2.6 times
# the reply's byte budget); the next Query asks for the rest.
FIRST_READ = 16


@dataclass(frozen=True)
class SendContext:
    """What one read tells sendMessage before it allocates a seq."""

    is_member: bool
    previous_ack: Ack | None
    sender_approved: bool | None
    parent: Message | None = None  # the message replied to, when asked and stored
    members_mentioned: tuple[str, ...] = ()  # the mentioned ids that are members, in order


class Duplicate(Exception):
    """The idempotency record exists: the message was stored before (by a concurrent retry)."""


class NoLongerMember(Exception):
    """The sender's membership vanished between allocating the seq and storing the message."""


def send_context(
    room_id: str,
    sender_id: str,
    client_message_id: str | None,
    *,
    want_profile: bool,
    reply_to: int | None = None,
    mentions: tuple[str, ...] = (),
) -> SendContext:
    """One BatchGetItem: the sender's membership, and if asked the idempotency record, the profile,
    the message replied to and the memberships of the people mentioned (at most 24 keys)."""
    wanted = [keys.membership(sender_id, room_id)]
    if client_message_id is not None:
        wanted.append(keys.idempotency(room_id, sender_id, client_message_id))
    if want_profile:
        wanted.append(keys.profile(sender_id))
    if reply_to is not None:
        wanted.append(keys.message(room_id, reply_to))
    wanted += [keys.membership(user_id, room_id) for user_id in mentions if user_id != sender_id]
    items = {_key_id(item): item for item in batch_get(wanted)}
    ack = None
    if client_message_id is not None:
        record = items.get(_key_id(keys.idempotency(room_id, sender_id, client_message_id)))
        if alive(record):
            ack = _ack(room_id, client_message_id, record)
    approved = None
    if want_profile:
        profile = items.get(_key_id(keys.profile(sender_id)))
        approved = profile is not None and profile.get("verificationStatus") == APPROVED
    is_member = _key_id(keys.membership(sender_id, room_id)) in items
    parent = items.get(_key_id(keys.message(room_id, reply_to))) if reply_to is not None else None
    mentioned = tuple(
        user_id
        for user_id in mentions
        if user_id == sender_id or _key_id(keys.membership(user_id, room_id)) in items
    )
    return SendContext(
        is_member=is_member,
        previous_ack=ack,
        sender_approved=approved,
        parent=message_from_item(parent) if parent is not None else None,
        members_mentioned=mentioned,
    )


def store(message: Message, *, idempotency_ttl: int, now: float) -> None:
    """The message, its idempotency record and the sender's read position, in one transaction.

    Raises Duplicate when a live idempotency record exists, NoLongerMember when the sender's
    membership is gone. An expired record (DynamoDB deletes those days late) counts as absent.
    """
    name = table_name()
    writes: list[dict[str, Any]] = [
        {
            "Put": {
                "TableName": name,
                "Item": {**keys.message(message.room_id, message.seq), **message_item(message)},
                "ConditionExpression": "attribute_not_exists(PK)",
            }
        },
        {
            "Update": {
                "TableName": name,
                "Key": keys.membership(message.sender_id, message.room_id),
                "UpdateExpression": "SET lastReadSeq = :s",
                "ConditionExpression": "attribute_exists(PK)",
                "ExpressionAttributeValues": {":s": message.seq},
            }
        },
    ]
    if message.client_message_id is not None:
        record = {
            **keys.idempotency(message.room_id, message.sender_id, message.client_message_id),
            "messageId": message.message_id,
            "seq": message.seq,
            "createdAt": message.created_at,
            "ttl": idempotency_ttl,
        }
        writes.append(
            {
                "Put": {
                    "TableName": name,
                    "Item": record,
                    "ConditionExpression": "attribute_not_exists(PK) OR #ttl <= :now",
                    "ExpressionAttributeNames": {"#ttl": "ttl"},
                    "ExpressionAttributeValues": {":now": int(now)},
                }
            }
        )
    try:
        transact(writes)
    except TransactionCancelled as exc:
        if len(exc.reasons) > 2 and exc.reasons[2] == "ConditionalCheckFailed":
            raise Duplicate(message.client_message_id) from exc
        if exc.reasons[1:2] == ["ConditionalCheckFailed"]:
            raise NoLongerMember(message.room_id) from exc
        raise


def previous_ack(room_id: str, sender_id: str, client_message_id: str) -> Ack | None:
    item = (
        table()
        .get_item(Key=keys.idempotency(room_id, sender_id, client_message_id), ConsistentRead=True)
        .get("Item")
    )
    return _ack(room_id, client_message_id, item) if alive(item) else None


def get(room_id: str, seq: int) -> Message | None:
    """The stored message with this seq (strongly consistent), or None."""
    item = table().get_item(Key=keys.message(room_id, seq), ConsistentRead=True).get("Item")
    return message_from_item(item) if item is not None else None


def in_page_order(room_id: str, *, after: int | None, before: int | None, most: int) -> Iterator[Message]:
    """Messages in the range in the order a page takes them, at most `most`, read as iterated.

    With `after`: ascending seq from just after it. Otherwise: descending from just below `before`
    (or from the newest). The first Query asks for 16 items and the next for all the rest: a page
    of long messages, which the reply's byte budget cuts at about six, reads 16 instead of up to
    DynamoDB's 1 MB; a page of short ones costs one more Query.
    """
    low = keys.message_sk(after + 1 if after is not None else 0)
    high = keys.message_sk(before - 1) if before is not None else keys.MESSAGE_PREFIX + "~"
    request: dict[str, Any] = {
        "KeyConditionExpression": "PK = :pk AND SK BETWEEN :low AND :high",
        "ExpressionAttributeValues": {":pk": keys.room_partition(room_id), ":low": low, ":high": high},
        "ScanIndexForward": after is not None,
        "ConsistentRead": True,
    }
    read = 0
    chunk = FIRST_READ
    while read < most:
        request["Limit"] = min(chunk, most - read)
        result = table().query(**request)
        for item in result["Items"]:
            read += 1
            yield message_from_item(item)
        if "LastEvaluatedKey" not in result:
            return
        request["ExclusiveStartKey"] = result["LastEvaluatedKey"]
        chunk = most


def message_item(message: Message) -> dict[str, Any]:
    """A message's attributes as stored (in its own item and in the room's last-message item)."""
    item: dict[str, Any] = {
        "roomId": message.room_id,
        "messageId": message.message_id,
        "seq": message.seq,
        "senderId": message.sender_id,
        "content": message.content,
        "createdAt": message.created_at,
    }
    if message.sender_name:
        item["senderName"] = message.sender_name
    if message.client_message_id is not None:
        item["clientMessageId"] = message.client_message_id
    if message.sent_from is not None:
        item["sentFrom"] = message.sent_from
    if message.deleted_at is not None:  # a tombstone: no content, no version, nothing else of it
        del item["content"]
        item.update(deletedAt=message.deleted_at, deletedBy=message.deleted_by or message.sender_id)
        return item
    if message.version > 1:
        item.update(version=message.version, editedAt=message.edited_at)
    if message.reply_to is not None:  # the parent's place only: its quote is read from it
        item["replyTo"] = {"seq": message.reply_to.seq, "messageId": message.reply_to.message_id}
    if message.mentions:
        item["mentions"] = list(message.mentions)
    return item


def message_from_item(item: dict[str, Any]) -> Message:
    return Message(
        room_id=str(item["roomId"]),
        message_id=str(item["messageId"]),
        seq=int(item["seq"]),
        sender_id=str(item["senderId"]),
        content=str(item.get("content", "")),
        created_at=str(item["createdAt"]),
        client_message_id=item.get("clientMessageId"),
        sender_name=str(item.get("senderName", "")),
        sent_from=item.get("sentFrom"),
        version=int(item.get("version", 1)),
        edited_at=item.get("editedAt"),
        deleted_at=item.get("deletedAt"),
        deleted_by=item.get("deletedBy"),
        reply_to=Quote(int(item["replyTo"]["seq"]), str(item["replyTo"]["messageId"]))
        if "replyTo" in item
        else None,
        mentions=tuple(str(user_id) for user_id in item.get("mentions", ())),
    )


def _ack(room_id: str, client_message_id: str, item: dict[str, Any]) -> Ack:
    return Ack(
        room_id=room_id,
        message_id=str(item["messageId"]),
        seq=int(item["seq"]),
        created_at=str(item["createdAt"]),
        client_message_id=client_message_id,
    )


def _key_id(item: dict[str, Any]) -> tuple[str, str]:
    return str(item["PK"]), str(item["SK"])
