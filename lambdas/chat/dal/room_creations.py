"""createRoom's idempotency records: `USER#<userId> / IDEMROOM#<clientRoomId>`, kept 24 hours.

The record is written with the room's reservations (dal/room_counts.py), before the room itself, and
holds everything the `room` frame says: a retry finds it and answers the same frame, completing the
room first if the earlier attempt stopped before writing it.
"""

from __future__ import annotations

from typing import Any

from chat.dal import keys
from chat.dal.client import alive, table, table_name
from chat.models.domain import Room


def get(user_id: str, client_room_id: str, now: float) -> tuple[Room, frozenset[str]] | None:
    """The room a live record names, with its member ids; None when there is none (or it expired)."""
    found = table().get_item(Key=keys.room_creation(user_id, client_room_id), ConsistentRead=True).get("Item")
    if not alive(found, now):
        return None
    member_ids = frozenset(str(member_id) for member_id in found["memberIds"])
    room = Room(
        room_id=str(found["roomId"]),
        name=str(found["name"]),
        open=bool(found["open"]),
        created_by=user_id,
        created_at=str(found["createdAt"]),
        member_count=len(member_ids),
    )
    return room, member_ids


def putting(
    room: Room, member_ids: frozenset[str], client_room_id: str, *, ttl: int, now: float
) -> dict[str, Any]:
    """The transaction item that writes the record, unless a live one exists (an expired one counts
    as absent: DynamoDB deletes those days late)."""
    return {
        "Put": {
            "TableName": table_name(),
            "Item": {
                **keys.room_creation(room.created_by, client_room_id),
                "roomId": room.room_id,
                "name": room.name,
                "open": room.open,
                "createdAt": room.created_at,
                "memberIds": sorted(member_ids),
                "ttl": ttl,
            },
            "ConditionExpression": "attribute_not_exists(PK) OR #ttl <= :now",
            "ExpressionAttributeNames": {"#ttl": "ttl"},
            "ExpressionAttributeValues": {":now": int(now)},
        }
    }


def deleting(user_id: str, client_room_id: str) -> dict[str, Any]:
    """The transaction item that removes the record (its room was not written)."""
    return {"Delete": {"TableName": table_name(), "Key": keys.room_creation(user_id, client_room_id)}}
