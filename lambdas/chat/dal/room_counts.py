"""The rooms each user is in, counted on one item per user (`USER#<userId> / ROOMS`) for the cap.

joinRoom and leaveRoom move the counter in the same transaction as the membership. createRoom's own
transaction is full (the room and up to 99 memberships), so it *reserves* a place on every member's
counter in a transaction of its own first, and releases them if the room is not written. A crash in
between leaves a counter above the user's memberships: `recount` puts it right, but only once no
reservation can still be in flight (`reservedAt` older than RESERVATION_SECONDS), so a correction
never drops a place a create is about to use.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from chat.dal import keys
from chat.dal.client import (
    TransactionCancelled,
    is_condition_failure,
    low_level,
    table,
    table_name,
    transact,
)

# Longer than any function may run (Lambda's ceiling is 15 minutes): a reservation older than this
# belongs to a createRoom that has ended, one way or the other.
RESERVATION_SECONDS = 15 * 60
CONDITION_FAILED = "ConditionalCheckFailed"


class AlsoRefused(Exception):
    """The item `reserve` wrote with the reservations refused (its condition failed): nothing was taken."""


class AtCap(Exception):
    """These users' counters are at the cap, or missing (a user from before the counters)."""

    def __init__(self, user_ids: list[str]) -> None:
        super().__init__(f"at the rooms-per-user cap: {user_ids}")
        self.user_ids = user_ids


def taking_one(user_id: str, *, cap: int) -> dict[str, Any]:
    """The transaction item that counts one more room for the user, if it stays within `cap`."""
    return {
        "Update": {
            "TableName": table_name(),
            "Key": keys.room_count(user_id),
            "UpdateExpression": "ADD #rooms :one",
            "ConditionExpression": "#rooms < :cap",  # false on a missing counter too
            "ExpressionAttributeNames": {"#rooms": "rooms"},
            "ExpressionAttributeValues": {":one": 1, ":cap": cap},
        }
    }


def giving_one_back(user_id: str) -> dict[str, Any]:
    """The transaction item that counts one room less (only on an existing counter)."""
    return {
        "Update": {
            "TableName": table_name(),
            "Key": keys.room_count(user_id),
            "UpdateExpression": "ADD #rooms :minus",
            "ConditionExpression": "attribute_exists(#rooms)",
            "ExpressionAttributeNames": {"#rooms": "rooms"},
            "ExpressionAttributeValues": {":minus": -1},
        }
    }


def reserve(user_ids: list[str], *, cap: int, now: float, also: dict[str, Any] | None = None) -> None:
    """One place on each user's counter, all or none, with `also` (a Put) in the same transaction.

    Raises AtCap naming the users whose counter refused, else AlsoRefused when `also`'s condition
    failed.
    """
    writes: list[dict[str, Any]] = []
    for user_id in user_ids:
        update = taking_one(user_id, cap=cap)
        update["Update"]["UpdateExpression"] += " SET reservedAt = :now"
        update["Update"]["ExpressionAttributeValues"][":now"] = int(now)
        writes.append(update)
    if also is not None:
        writes.append(also)
    try:
        transact(writes)
    except TransactionCancelled as exc:
        refused = [
            user_id
            for user_id, reason in zip(user_ids, exc.reasons, strict=False)
            if reason == CONDITION_FAILED
        ]
        if refused:
            raise AtCap(refused) from exc
        if also is not None and exc.reasons[len(user_ids) :] == [CONDITION_FAILED]:
            raise AlsoRefused() from exc
        raise


def release(user_ids: list[str], *, also: dict[str, Any] | None = None) -> None:
    """Give back the places `reserve` took (the room was not written), with `also` (a Delete)."""
    writes = [giving_one_back(user_id) for user_id in user_ids]
    if also is not None:
        writes.append(also)
    transact(writes)


def recount(user_id: str, now: float) -> bool:
    """Count the user's memberships and put the counter right; True when it changed.

    A missing counter (a user from before the counters) is created; a counter above the count is
    lowered only when its last reservation is older than RESERVATION_SECONDS, and only if nothing
    moved it since it was read. A counter below the count cannot happen (every membership write
    moves it first).
    """
    found = table().get_item(Key=keys.room_count(user_id), ConsistentRead=True).get("Item")
    memberships = _memberships(user_id)
    if found is None:
        return _write(user_id, memberships, "attribute_not_exists(PK)", {})
    counted, reserved_at = int(found["rooms"]), found.get("reservedAt")
    if counted <= memberships or (reserved_at is not None and int(reserved_at) > now - RESERVATION_SECONDS):
        return False
    if reserved_at is None:
        return _write(
            user_id, memberships, "#rooms = :seen AND attribute_not_exists(reservedAt)", {":seen": counted}
        )
    condition = "#rooms = :seen AND reservedAt = :reserved"
    return _write(user_id, memberships, condition, {":seen": counted, ":reserved": int(reserved_at)})


def counted(user_id: str) -> int | None:
    found = table().get_item(Key=keys.room_count(user_id), ConsistentRead=True).get("Item")
    return int(found["rooms"]) if found is not None else None


def _memberships(user_id: str) -> int:
    """A COUNT Query of the user's memberships (at most the cap's worth of small items: one page)."""
    request: dict[str, Any] = {
        "TableName": table_name(),
        "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
        "ExpressionAttributeValues": {":pk": keys.user_partition(user_id), ":prefix": keys.MEMBERSHIP_PREFIX},
        "Select": "COUNT",
        "ConsistentRead": True,
    }
    total = 0
    while True:
        page = low_level().query(**request)
        total += int(page["Count"])
        if "LastEvaluatedKey" not in page:
            return total
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _write(user_id: str, rooms: int, condition: str, values: dict[str, Any]) -> bool:
    try:
        low_level().update_item(
            TableName=table_name(),
            Key=keys.room_count(user_id),
            UpdateExpression="SET #rooms = :rooms",
            ConditionExpression=condition,
            ExpressionAttributeNames={"#rooms": "rooms"},
            ExpressionAttributeValues={":rooms": rooms, **values},
        )
    except ClientError as exc:
        if is_condition_failure(exc):
            return False  # moved meanwhile: the caller's retry sees the new value
        raise
    return True
