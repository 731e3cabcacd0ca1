"""Room items and their last-message items: the two small items a message writes besides its own.

The room item holds the room's description, its `seq` counter and its member and online counts:
well under 1 KB whatever the room's size, so taking a seq costs one write unit. The newest message's
copy for `listRooms` lives in an item of its own (`LAST`), so a long message never makes the counter
item costly to write.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from chat.dal import keys, quotes
from chat.dal.client import ConditionFailed, batch_get, is_condition_failure, low_level, table, table_name
from chat.dal.messages import message_from_item, message_item
from chat.models.domain import Membership, Message, Room

# Rooms the first BatchGetItem of a listRooms page reads; the next ones read the rest of the page.
FIRST_LISTED = 16


def item(room: Room) -> dict[str, Any]:
    """The room item as stored."""
    return {
        **keys.room(room.room_id),
        "roomId": room.room_id,
        "name": room.name,
        "open": room.open,
        "createdBy": room.created_by,
        "createdAt": room.created_at,
        "seq": room.seq,
        "memberCount": room.member_count,
        "onlineCount": room.online_count,
    }


def get(room_id: str) -> Room | None:
    found = table().get_item(Key=keys.room(room_id), ConsistentRead=True).get("Item")
    return from_item(found) if found else None


def with_last_messages(room_ids: list[str]) -> dict[str, tuple[Room, Message | None]]:
    """Rooms by id with their last message (one BatchGetItem per 50 rooms, and one more for the
    parents of those that are replies); missing rooms are left out."""
    wanted = [key for room_id in room_ids for key in (keys.room(room_id), keys.last_message(room_id))]
    found = batch_get(wanted)
    rooms = {str(i["roomId"]): from_item(i) for i in found if i["SK"] == keys.ROOM_SK}
    last_messages = quotes.resolved([message_from_item(i) for i in found if i["SK"] == keys.LAST_SK])
    lasts = {message.room_id: message for message in last_messages}
    return {room_id: (room, lasts.get(room_id)) for room_id, room in rooms.items()}


def listed(memberships: list[Membership]) -> Iterator[tuple[Membership, Room | None, Message | None]]:
    """Each membership with its room and last message (None for a room that is gone), in order,
    read as iterated: the first 16 rooms, then the rest, so a page of long last messages, which the
    reply's byte budget cuts at about six, reads 16 rather than 100 of them."""
    for part in (memberships[:FIRST_LISTED], memberships[FIRST_LISTED:]):
        current = with_last_messages([m.room_id for m in part]) if part else {}
        for membership in part:
            yield (membership, *current.get(membership.room_id, (None, None)))


def allocate_seq(room_id: str) -> Room:
    """Take the room's next seq: the room as it is now (its `seq` the one taken). Raises
    ConditionFailed when the room does not exist."""
    try:
        updated = table().update_item(
            Key=keys.room(room_id),
            UpdateExpression="ADD seq :one",
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeValues={":one": 1},
            ReturnValues="ALL_NEW",  # no more units than UPDATED_NEW: an update is billed by item size
        )["Attributes"]
    except ClientError as exc:
        if is_condition_failure(exc):
            raise ConditionFailed(room_id) from exc
        raise
    return from_item(updated)


def cache_last_message(message: Message) -> None:
    """Keep the room's last message, never replacing a later message by an earlier one."""
    try:
        table().put_item(
            Item={**keys.last_message(message.room_id), **message_item(message)},
            ConditionExpression="attribute_not_exists(PK) OR seq < :seq",
            ExpressionAttributeValues={":seq": message.seq},
        )
    except ClientError as exc:
        if not is_condition_failure(exc):
            raise


def count_online(room_id: str, delta: int) -> Room | None:
    """A member came online (+1) or went offline (-1): the room as it is now (None when it is gone).

    Safe to call from several threads.
    """
    try:
        updated = low_level().update_item(
            TableName=table_name(),
            Key=keys.room(room_id),
            UpdateExpression="ADD onlineCount :d",
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeValues={":d": delta},
            ReturnValues="ALL_NEW",
        )["Attributes"]
    except ClientError as exc:
        if not is_condition_failure(exc):
            raise
        return None
    return from_item(updated)


def from_item(found: dict[str, Any]) -> Room:
    return Room(
        room_id=str(found["roomId"]),
        name=str(found["name"]),
        open=bool(found["open"]),
        created_by=str(found["createdBy"]),
        created_at=str(found["createdAt"]),
        seq=int(found.get("seq", 0)),
        member_count=int(found.get("memberCount", 0)),
        online_count=max(0, int(found.get("onlineCount", 0))),
    )
