"""Room items (with their connection index and last-message cache) and the users' memberships."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from botocore.exceptions import ClientError

from chat.dal import keys
from chat.dal.client import (
    ConditionFailed,
    TransactionCancelled,
    batch_get,
    in_parallel,
    is_condition_failure,
    low_level,
    query_prefix,
    table,
    table_name,
    transact,
)
from chat.dal.messages import message_from_item, message_item
from chat.models.domain import Membership, Message, Room

# A room item holds its members and their connections; this cap keeps it far below 400 KB.
MAX_MEMBERS = 1000
# UpdateExpression is limited to 4 KB: connection-index changes go in chunks of this many entries.
INDEX_CHUNK = 50


def create(room: Room, memberships: list[tuple[str, Membership]]) -> None:
    """The room and every member's membership in one transaction (at most 100 items)."""
    name = table_name()
    item = {
        **keys.room(room.room_id),
        "roomId": room.room_id,
        "name": room.name,
        "open": room.open,
        "createdBy": room.created_by,
        "createdAt": room.created_at,
        "members": set(room.member_ids),
        "seq": 0,
        "conns": dict(room.connections),
    }
    writes = [{"Put": {"TableName": name, "Item": item, "ConditionExpression": "attribute_not_exists(PK)"}}]
    writes += [{"Put": {"TableName": name, "Item": _membership_item(user, m)}} for user, m in memberships]
    transact(writes)


def get(room_id: str) -> Room | None:
    item = table().get_item(Key=keys.room(room_id), ConsistentRead=True).get("Item")
    return _room(item) if item else None


def summaries(room_ids: list[str]) -> dict[str, Room]:
    """Rooms by id; rooms that do not exist are left out."""
    rooms = [_room(item) for item in batch_get([keys.room(room_id) for room_id in room_ids])]
    return {room.room_id: room for room in rooms}


def join(room_id: str, user_id: str, membership: Membership, connection_ids: Iterable[str]) -> None:
    """Add the user to members and its connections to the index, with its membership, at once.

    Raises ConditionFailed when the room may not be joined any more (it is full).
    """
    names = _connection_names(connection_ids)
    sets = ", ".join(f"conns.{name} = :uid" for name in names)
    update = {
        "TableName": table_name(),
        "Key": keys.room(room_id),
        "UpdateExpression": "ADD members :u" + (f" SET {sets}" if sets else ""),
        "ConditionExpression": "attribute_exists(PK) AND (#open = :open OR contains(members, :uid)) "
        "AND (attribute_not_exists(members) OR size(members) < :cap)",
        "ExpressionAttributeNames": {**names, "#open": "open"},
        "ExpressionAttributeValues": {":u": {user_id}, ":uid": user_id, ":cap": MAX_MEMBERS, ":open": True},
    }
    _transact_or_condition_failed(
        [
            {"Update": update},
            {"Put": {"TableName": table_name(), "Item": _membership_item(user_id, membership)}},
        ]
    )


def leave(room_id: str, user_id: str, connection_ids: Iterable[str]) -> None:
    """Remove the user from members, its connections from the index and its membership, at once.

    Raises ConditionFailed when the user is not a member (any more).
    """
    names = _connection_names(connection_ids)
    removals = ", ".join(f"conns.{name}" for name in names)
    update: dict[str, Any] = {
        "TableName": table_name(),
        "Key": keys.room(room_id),
        "UpdateExpression": "DELETE members :u" + (f" REMOVE {removals}" if removals else ""),
        "ConditionExpression": "contains(members, :uid)",
        "ExpressionAttributeValues": {":u": {user_id}, ":uid": user_id},
    }
    if names:
        update["ExpressionAttributeNames"] = names
    _transact_or_condition_failed(
        [
            {"Update": update},
            {"Delete": {"TableName": table_name(), "Key": keys.membership(user_id, room_id)}},
        ]
    )


def index_connections(room_id: str, connections: dict[str, str]) -> None:
    """Add connections (id -> user id) to the room's index."""
    for chunk in _chunks(list(connections.items())):
        names = _connection_names(connection_id for connection_id, _ in chunk)
        values = {f":u{i}": user_id for i, (_, user_id) in enumerate(chunk)}
        sets = ", ".join(f"conns.#c{i} = :u{i}" for i in range(len(chunk)))
        _update_room(room_id, f"SET {sets}", "attribute_exists(PK)", names, values)


def index_connection_in(room_ids: Iterable[str], connection_id: str, user_id: str) -> None:
    """Add one connection to the index of each room, in those where its user is (still) a member."""
    in_parallel(
        lambda room_id: _update_room(
            room_id, "SET conns.#c = :u", "contains(members, :u)", {"#c": connection_id}, {":u": user_id}
        ),
        room_ids,
    )


def unindex_connection_in(room_ids: Iterable[str], connection_id: str) -> None:
    """Remove one connection from the index of each room (idempotent)."""
    in_parallel(
        lambda room_id: _update_room(
            room_id, "REMOVE conns.#c", "attribute_exists(PK)", {"#c": connection_id}, {}
        ),
        room_ids,
    )


def allocate_seq(room_id: str, user_id: str) -> Room:
    """Take the room's next seq, only for a member; returns the room as it is after the increment.

    Raises ConditionFailed when the room does not exist or the user is not a member.
    """
    try:
        item = table().update_item(
            Key=keys.room(room_id),
            UpdateExpression="ADD seq :one",
            ConditionExpression="contains(members, :u)",
            ExpressionAttributeValues={":one": 1, ":u": user_id},
            ReturnValues="ALL_NEW",
        )["Attributes"]
    except ClientError as exc:
        if is_condition_failure(exc):
            raise ConditionFailed(room_id) from exc
        raise
    return _room(item)


def cache_last_message(message: Message) -> None:
    """Keep the room's last-message cache, never replacing a later message by an earlier one."""
    _update_room(
        message.room_id,
        "SET lastMessage = :m",
        "attribute_exists(PK) AND (attribute_not_exists(lastMessage) OR lastMessage.seq < :seq)",
        {},
        {":m": message_item(message), ":seq": message.seq},
    )


def memberships(user_id: str) -> list[Membership]:
    return [_membership(item) for item in query_prefix(keys.user_partition(user_id), keys.MEMBERSHIP_PREFIX)]


def membership(user_id: str, room_id: str) -> Membership | None:
    item = table().get_item(Key=keys.membership(user_id, room_id), ConsistentRead=True).get("Item")
    return _membership(item) if item else None


def mark_read(user_id: str, room_id: str, seq: int) -> tuple[int, bool] | None:
    """Move the user's read position forward to `seq`.

    Returns the position now and whether it moved; None when the user is not a member.
    """
    try:
        table().update_item(
            Key=keys.membership(user_id, room_id),
            UpdateExpression="SET lastReadSeq = :s",
            ConditionExpression="attribute_exists(PK) AND lastReadSeq < :s",
            ExpressionAttributeValues={":s": seq},
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as exc:
        if not is_condition_failure(exc):
            raise
        old = exc.response.get("Item")
        return (int(old["lastReadSeq"]["N"]), False) if old else None
    return seq, True


def _room(item: dict[str, Any]) -> Room:
    last = item.get("lastMessage")
    return Room(
        room_id=str(item["roomId"]),
        name=str(item["name"]),
        open=bool(item["open"]),
        created_by=str(item["createdBy"]),
        created_at=str(item["createdAt"]),
        member_ids=frozenset(item.get("members", ())),
        seq=int(item.get("seq", 0)),
        last_message=message_from_item(last) if last else None,
        connections={str(k): str(v) for k, v in item.get("conns", {}).items()},
    )


def _membership_item(user_id: str, membership: Membership) -> dict[str, Any]:
    return {
        **keys.membership(user_id, membership.room_id),
        "roomId": membership.room_id,
        "name": membership.name,
        "open": membership.open,
        "joinedAt": membership.joined_at,
        "lastReadSeq": membership.last_read_seq,
    }


def _membership(item: dict[str, Any]) -> Membership:
    return Membership(
        room_id=str(item["roomId"]),
        name=str(item["name"]),
        open=bool(item["open"]),
        joined_at=str(item["joinedAt"]),
        last_read_seq=int(item["lastReadSeq"]),
    )


def _connection_names(connection_ids: Iterable[str]) -> dict[str, str]:
    """Expression attribute names for connection ids (they hold characters a name path cannot)."""
    return {f"#c{i}": connection_id for i, connection_id in enumerate(connection_ids)}


def _chunks(items: list[Any]) -> list[list[Any]]:
    return [items[i : i + INDEX_CHUNK] for i in range(0, len(items), INDEX_CHUNK)]


def _update_room(
    room_id: str, expression: str, condition: str, names: dict[str, str], values: dict[str, Any]
) -> None:
    """An UpdateItem of the room item that does nothing when `condition` fails (safe in parallel)."""
    request: dict[str, Any] = {
        "TableName": table_name(),
        "Key": keys.room(room_id),
        "UpdateExpression": expression,
        "ConditionExpression": condition,
    }
    if names:
        request["ExpressionAttributeNames"] = names
    if values:
        request["ExpressionAttributeValues"] = values
    try:
        low_level().update_item(**request)
    except ClientError as exc:
        if not is_condition_failure(exc):
            raise


def _transact_or_condition_failed(items: list[dict[str, Any]]) -> None:
    try:
        transact(items)
    except TransactionCancelled as exc:
        if "ConditionalCheckFailed" in exc.reasons:
            raise ConditionFailed(str(exc.reasons)) from exc
        raise
