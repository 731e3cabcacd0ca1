"""Memberships, both ways: the user's side and the room's side.

- `USER#<userId> / ROOM#<roomId>` (Membership): the user's rooms for listRooms, its read position;
  the membership check of every room action reads it.
- `ROOM#<roomId> / MEMBER#<userId>` (Member): who is in the room, under which name, with which
  open connections (id -> when it ends and when its session ends, dal/entries.py). getMembers and
  small rooms' fan-outs Query these; a member's item stays small (at most the per-user connection
  cap of live entries), whatever the room's size. An item with entries is in the online index
  (dal/online.py), which big rooms' message fan-outs read instead.

Both sides are written in one transaction on join and leave, with the user's rooms counter
(dal/room_counts.py). createRoom writes the room's side
first (invisible: nothing reads a room's members before its room item exists), then the room and
the users' side in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from chat.dal import entries, keys, online, room_counts, rooms
from chat.dal.client import (
    ConditionFailed,
    TransactionCancelled,
    batch_get,
    batch_put,
    is_condition_failure,
    low_level,
    query_prefix,
    table,
    table_name,
    transact,
    update_if,
)
from chat.models.domain import ConnectionEntry, Member, Membership, Room

# Expired entries removed per UpdateExpression (each `conns.#eN`, well under the 4 KB expression limit).
EXPIRED_PER_UPDATE = 50


class AlreadyMember(Exception):
    """joinRoom raced with another join of the same user: it is a member already."""


class RoomExists(Exception):
    """createRoom's room id is taken: a retry of the same `clientRoomId` wrote it first."""


class CountMissing(Exception):
    """leaveRoom: the leaver has no rooms counter yet (a user from before the counters)."""


def create_room(room: Room, members: list[Member], membership: Membership) -> None:
    """The room's member items, then the room and every member's membership in one transaction.

    At most 99 members: a transaction holds 100 items.
    """
    batch_put([member_item(room.room_id, member) for member in members])
    name = table_name()
    writes: list[dict[str, Any]] = [
        {
            "Put": {
                "TableName": name,
                "Item": rooms.item(room),
                "ConditionExpression": "attribute_not_exists(PK)",
            }
        }
    ]
    writes += [
        {"Put": {"TableName": name, "Item": _membership_item(member.user_id, membership)}}
        for member in members
    ]
    try:
        transact(writes)
    except TransactionCancelled as exc:
        if exc.reasons[0] == "ConditionalCheckFailed":
            raise RoomExists(room.room_id) from exc
        raise


def join(
    room_id: str, member: Member, membership: Membership, *, online: bool, max_members: int, max_rooms: int
) -> None:
    """Add both sides of the membership and count the member in the room and the room for the user,
    at once.

    Raises ConditionFailed when the room is closed, full or gone; AlreadyMember when a concurrent
    join of the same user won; room_counts.AtCap when the joiner's counter refused.
    """
    name = table_name()
    count = {
        "TableName": name,
        "Key": keys.room(room_id),
        "UpdateExpression": "ADD memberCount :one, onlineCount :online",
        "ConditionExpression": "attribute_exists(PK) AND #open = :true AND memberCount < :cap",
        "ExpressionAttributeNames": {"#open": "open"},
        "ExpressionAttributeValues": {":one": 1, ":online": int(online), ":true": True, ":cap": max_members},
    }
    new = "attribute_not_exists(PK)"
    try:
        transact(
            [
                {"Update": count},
                {
                    "Put": {
                        "TableName": name,
                        "Item": member_item(room_id, member),
                        "ConditionExpression": new,
                    }
                },
                {
                    "Put": {
                        "TableName": name,
                        "Item": _membership_item(member.user_id, membership),
                        "ConditionExpression": new,
                    }
                },
                room_counts.taking_one(member.user_id, cap=max_rooms),
            ]
        )
    except TransactionCancelled as exc:
        if exc.reasons[0] == "ConditionalCheckFailed":
            raise ConditionFailed(room_id) from exc
        if "ConditionalCheckFailed" in exc.reasons[1:3]:
            raise AlreadyMember(room_id) from exc
        if exc.reasons[3:] == ["ConditionalCheckFailed"]:
            raise room_counts.AtCap([member.user_id]) from exc
        raise


def leave(room_id: str, user_id: str, *, was_online: bool) -> None:
    """Remove both sides and uncount the member (and the room for the user), at once.

    Raises ConditionFailed for a non-member, CountMissing when the user has no counter yet.
    """
    name = table_name()
    try:
        transact(
            [
                {
                    "Delete": {
                        "TableName": name,
                        "Key": keys.room_member(room_id, user_id),
                        "ConditionExpression": "attribute_exists(PK)",
                    }
                },
                {"Delete": {"TableName": name, "Key": keys.membership(user_id, room_id)}},
                {
                    "Update": {
                        "TableName": name,
                        "Key": keys.room(room_id),
                        "UpdateExpression": "ADD memberCount :minus, onlineCount :online",
                        "ExpressionAttributeValues": {":minus": -1, ":online": -int(was_online)},
                    }
                },
                room_counts.giving_one_back(user_id),
            ]
        )
    except TransactionCancelled as exc:
        if exc.reasons[0] == "ConditionalCheckFailed":
            raise ConditionFailed(room_id) from exc
        if exc.reasons[3:] == ["ConditionalCheckFailed"]:
            raise CountMissing(user_id) from exc
        raise


def member(room_id: str, user_id: str) -> Member | None:
    found = table().get_item(Key=keys.room_member(room_id, user_id), ConsistentRead=True).get("Item")
    return _member(found) if found else None


def page(room_id: str, *, after: str | None, limit: int) -> tuple[list[Member], str | None]:
    """Up to `limit` members in user-id order after the member `after`, and the cursor for the next
    page (the last one's id; None when no more follow)."""
    request: dict[str, Any] = {
        "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
        "ExpressionAttributeValues": {":pk": keys.room_partition(room_id), ":prefix": keys.MEMBER_PREFIX},
        "Limit": limit,
        "ConsistentRead": True,
    }
    if after is not None:
        request["ExclusiveStartKey"] = keys.room_member(room_id, after)
    result = table().query(**request)
    found = [_member(item) for item in result["Items"]]
    more = "LastEvaluatedKey" in result and len(found) == limit
    return found, (found[-1].user_id if more else None)


def pages(room_id: str, size: int) -> Iterator[list[Member]]:
    """Every member item of the room, `size` at a time (strongly consistent: a member who has just
    joined gets the next message)."""
    request: dict[str, Any] = {
        "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
        "ExpressionAttributeValues": {":pk": keys.room_partition(room_id), ":prefix": keys.MEMBER_PREFIX},
        "Limit": size,
        "ConsistentRead": True,
    }
    while True:
        result = table().query(**request)
        yield [_member(item) for item in result["Items"]]
        if "LastEvaluatedKey" not in result:
            return
        request["ExclusiveStartKey"] = result["LastEvaluatedKey"]


def attach(
    room_id: str, user_id: str, connection_id: str, entry: ConnectionEntry, display_name: str, now: float
) -> bool:
    """Add a connection to the user's member item (only while a member); True when it came online.

    The item is in the online index from then on (`onlineKey`, set in the same update). Also renames
    the member (its display name is kept current on each connect), and drops the entries of
    connections that expired without `$disconnect`, so the item never outgrows what a user can hold
    open at once.
    """
    try:
        old = (
            low_level()
            .update_item(
                TableName=table_name(),
                Key=keys.room_member(room_id, user_id),
                UpdateExpression="SET conns.#c = :e, displayName = :n, #k = :k",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeNames={"#c": connection_id, "#k": keys.ONLINE_KEY},
                ExpressionAttributeValues={
                    ":e": entries.item(entry),
                    ":n": display_name,
                    ":k": keys.online_key(room_id, user_id),
                },
                ReturnValues="ALL_OLD",
            )
            .get("Attributes", {})
        )
    except ClientError as exc:
        if is_condition_failure(exc):
            return False
        raise
    others = {cid: e for cid, e in entries.parse_map(old.get("conns")).items() if cid != connection_id}
    expired = [cid for cid, other in others.items() if not other.open(now)]
    for start in range(0, len(expired), EXPIRED_PER_UPDATE):
        _forget_expired(room_id, user_id, expired[start : start + EXPIRED_PER_UPDATE])
    return not any(other.open(now) for other in others.values())


def renew(room_id: str, user_id: str, connection_id: str, entry: ConnectionEntry) -> None:
    """Replace the connection's entry after a `reauth` (its new session expiry); only if listed.

    The whole entry is written, not its `auth` alone, so an entry of the previous version (a bare
    number) is converted too.
    """
    update_if(  # False: not a member any more, or the connection was dropped
        Key=keys.room_member(room_id, user_id),
        UpdateExpression="SET conns.#c = :e",
        ConditionExpression="attribute_exists(conns.#c)",
        ExpressionAttributeNames={"#c": connection_id},
        ExpressionAttributeValues={":e": entries.item(entry)},
    )


def _forget_expired(room_id: str, user_id: str, connection_ids: list[str]) -> None:
    """REMOVE the entries of expired connections (API Gateway never reuses a connection id)."""
    names = {f"#e{i}": cid for i, cid in enumerate(connection_ids)}
    removals = ", ".join(f"conns.{name}" for name in names)
    update_if(
        Key=keys.room_member(room_id, user_id),
        UpdateExpression=f"REMOVE {removals}",
        ConditionExpression="attribute_exists(PK)",
        ExpressionAttributeNames=names,
    )


def detach(room_id: str, user_id: str, connection_id: str, now: float) -> bool:
    """Remove a connection from the user's member item; True when that took the member offline.

    The last entry gone, the member leaves the online index (a second update, conditioned on the
    item still listing none: a crash in between leaves it indexed with no entry, which the next
    fan-out that reads it, or the member's next connect, puts right).
    """
    try:
        new = low_level().update_item(
            TableName=table_name(),
            Key=keys.room_member(room_id, user_id),
            UpdateExpression="REMOVE conns.#c",
            ConditionExpression="attribute_exists(conns.#c)",
            ExpressionAttributeNames={"#c": connection_id},
            ReturnValues="ALL_NEW",
        )["Attributes"]
    except ClientError as exc:
        if is_condition_failure(exc):
            return False  # not a member, or that connection was not (or no longer) listed
        raise
    left = entries.parse_map(new.get("conns"))
    if not left:
        online.forget_if_empty(room_id, user_id)
    return not any(entry.open(now) for entry in left.values())


def room_and_membership(room_id: str, user_id: str) -> tuple[Room | None, Membership | None]:
    """The room and the user's membership of it, in one BatchGetItem."""
    found = {
        str(item["SK"]): item for item in batch_get([keys.room(room_id), keys.membership(user_id, room_id)])
    }
    room = found.get(keys.ROOM_SK)
    membership = found.get(keys.membership(user_id, room_id)["SK"])
    return (rooms.from_item(room) if room else None), (_membership(membership) if membership else None)


def memberships(user_id: str) -> list[Membership]:
    return [_membership(item) for item in query_prefix(keys.user_partition(user_id), keys.MEMBERSHIP_PREFIX)]


def membership_page(user_id: str, *, after: str | None, limit: int) -> tuple[list[Membership], bool]:
    """Up to `limit` of the user's memberships in room-id order after the room `after`, and whether
    more follow (one more item is read to know)."""
    request: dict[str, Any] = {
        "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
        "ExpressionAttributeValues": {":pk": keys.user_partition(user_id), ":prefix": keys.MEMBERSHIP_PREFIX},
        "Limit": limit + 1,
        "ConsistentRead": True,
    }
    if after is not None:
        request["ExclusiveStartKey"] = keys.membership(user_id, after)
    found: list[Membership] = []
    while len(found) <= limit:
        result = table().query(**request)
        found += [_membership(item) for item in result["Items"]]
        if "LastEvaluatedKey" not in result:
            break
        request["ExclusiveStartKey"] = result["LastEvaluatedKey"]
    return found[:limit], len(found) > limit


def membership(user_id: str, room_id: str) -> Membership | None:
    found = table().get_item(Key=keys.membership(user_id, room_id), ConsistentRead=True).get("Item")
    return _membership(found) if found else None


def mark_read(
    user_id: str, room_id: str, seq: int, *, read_mentions: frozenset[int] = frozenset()
) -> tuple[int, bool] | None:
    """Move the user's read position forward to `seq`, and drop the mentions now read (seqs at or
    below it, dal/mentions.py) from the membership.

    Returns the position now and whether it moved; None when the user is not a member.
    """
    update = "SET lastReadSeq = :s"
    values: dict[str, Any] = {":s": seq}
    if read_mentions:
        update += " DELETE mentionSeqs :read"
        values[":read"] = set(read_mentions)
    try:
        table().update_item(
            Key=keys.membership(user_id, room_id),
            UpdateExpression=update,
            ConditionExpression="attribute_exists(PK) AND lastReadSeq < :s",
            ExpressionAttributeValues=values,
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as exc:
        if not is_condition_failure(exc):
            raise
        old = exc.response.get("Item")
        return (int(old["lastReadSeq"]["N"]), False) if old else None
    return seq, True


def member_item(room_id: str, value: Member) -> dict[str, Any]:
    item = {
        **keys.room_member(room_id, value.user_id),
        "userId": value.user_id,
        "displayName": value.display_name,
        "joinedAt": value.joined_at,
        # always a map, so `SET conns.#c` has a parent
        "conns": {cid: entries.item(entry) for cid, entry in value.connections.items()},
    }
    if value.connections:
        item[keys.ONLINE_KEY] = keys.online_key(room_id, value.user_id)
    return item


def _member(found: dict[str, Any]) -> Member:
    return Member(
        user_id=str(found["userId"]),
        display_name=str(found.get("displayName", "")),
        joined_at=str(found["joinedAt"]),
        connections=entries.parse_map(found.get("conns")),
        indexed=keys.ONLINE_KEY in found,
    )


def _membership_item(user_id: str, value: Membership) -> dict[str, Any]:
    return {
        **keys.membership(user_id, value.room_id),
        "roomId": value.room_id,
        "name": value.name,
        "open": value.open,
        "joinedAt": value.joined_at,
        "lastReadSeq": value.last_read_seq,
    }


def _membership(found: dict[str, Any]) -> Membership:
    return Membership(
        room_id=str(found["roomId"]),
        name=str(found["name"]),
        open=bool(found["open"]),
        joined_at=str(found["joinedAt"]),
        last_read_seq=int(found["lastReadSeq"]),
        mention_seqs=frozenset(int(seq) for seq in found.get("mentionSeqs", ())),
    )
