"""Connection records (connection -> user) and each user's connection map (user -> connections).

The user's map is one small item holding every open connection with its expiry: the per-user cap is
enforced on it with optimistic concurrency (a `version` attribute), and a fan-out or a room write
reads a user's connections with one GetItem (many users' with one BatchGetItem).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from chat.dal import keys
from chat.dal.client import (
    TransactionCancelled,
    alive,
    batch_get,
    is_condition_failure,
    table,
    table_name,
    transact,
)
from chat.models.domain import Caller, ConnectionRecord

# Concurrent connects of one user retry the map write this often before giving up (500).
MAP_WRITE_ATTEMPTS = 4


class TooManyConnections(Exception):
    """The user already holds the allowed number of open connections."""


class MapContended(Exception):
    """The user's map changed under every attempt (a burst of connects of the same user)."""


@dataclass(frozen=True)
class UserConnections:
    """A user's open connections (id -> expiry) and the display name its last connect carried."""

    display_name: str
    connections: dict[str, int]


def put(caller: Caller, *, connected_at: str, expires_at: int, max_connections: int, now: float) -> None:
    """The connection record and its entry in the user's map, in one transaction.

    Raises TooManyConnections (nothing is written) when `max_connections` live ones exist already.
    Expired entries (connections that ended without `$disconnect`) are dropped from the map here.
    """
    record = {
        **keys.connection(caller.connection_id),
        "userId": caller.user_id,
        "username": caller.username,
        "displayName": caller.name,
        "tokenExpiresAt": caller.token_expires_at,
        "connectedAt": connected_at,
        "lastSeenAt": connected_at,
        "ttl": expires_at,
    }
    if caller.email:
        record["email"] = caller.email
    name = table_name()
    for _ in range(MAP_WRITE_ATTEMPTS):
        current = table().get_item(Key=keys.user_connections(caller.user_id), ConsistentRead=True).get("Item")
        version = int(current["version"]) if current else 0
        live = _live(current, now)
        if len(live) >= max_connections:
            raise TooManyConnections(caller.user_id)
        live[caller.connection_id] = expires_at
        user_item = {
            **keys.user_connections(caller.user_id),
            "conns": live,
            "displayName": caller.name,
            "version": version + 1,
            "ttl": max(live.values()),  # the item goes once its last connection has expired
        }
        condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(PK)"}
        if current:
            condition = {
                "ConditionExpression": "#v = :v",
                "ExpressionAttributeNames": {"#v": "version"},
                "ExpressionAttributeValues": {":v": version},
            }
        try:
            transact(
                [
                    {"Put": {"TableName": name, "Item": record}},
                    {"Put": {"TableName": name, "Item": user_item, **condition}},
                ]
            )
        except TransactionCancelled as exc:
            if exc.reasons[1:2] == ["ConditionalCheckFailed"]:
                continue  # another connect or disconnect of this user got there first: read again
            raise
        return
    raise MapContended(caller.user_id)


def delete(connection_id: str, user_id: str) -> None:
    """The map entry and the record, in one transaction; deleting what is already gone is fine."""
    name = table_name()
    remove_entry = {
        "Update": {
            "TableName": name,
            "Key": keys.user_connections(user_id),
            "UpdateExpression": "REMOVE conns.#c ADD #v :one",
            "ConditionExpression": "attribute_exists(conns.#c)",
            "ExpressionAttributeNames": {"#c": connection_id, "#v": "version"},
            "ExpressionAttributeValues": {":one": 1},
        }
    }
    delete_record = {"Delete": {"TableName": name, "Key": keys.connection(connection_id)}}
    try:
        transact([remove_entry, delete_record])
    except TransactionCancelled as exc:
        if exc.reasons[:1] != ["ConditionalCheckFailed"]:
            raise
        table().delete_item(Key=keys.connection(connection_id))  # the entry was gone already


def get(connection_id: str) -> ConnectionRecord | None:
    item = table().get_item(Key=keys.connection(connection_id), ConsistentRead=True).get("Item")
    if not alive(item):
        return None
    return ConnectionRecord(
        connection_id=connection_id,
        user_id=str(item["userId"]),
        token_expires_at=int(item["tokenExpiresAt"]),
    )


def of_user(user_id: str, now: float) -> dict[str, int]:
    """The user's live connections (id -> expiry), from its map."""
    item = table().get_item(Key=keys.user_connections(user_id), ConsistentRead=True).get("Item")
    return _live(item, now)


def of_users(user_ids: Iterable[str], now: float) -> dict[str, UserConnections]:
    """Each user's live connections and display name; users with no map are left out."""
    found = batch_get([keys.user_connections(user_id) for user_id in dict.fromkeys(user_ids)])
    return {
        str(item["PK"]).removeprefix("USER#"): UserConnections(
            display_name=str(item.get("displayName", "")), connections=_live(item, now)
        )
        for item in found
    }


def display_name(user_id: str) -> str:
    """The name the user's last connect carried ("" when its map is gone)."""
    item = table().get_item(Key=keys.user_connections(user_id), ConsistentRead=True).get("Item")
    return str((item or {}).get("displayName", ""))


def extend_token(connection_id: str, expires_at: int) -> bool:
    """Record a reauth's new token expiry; False when the connection record is gone."""
    return _update_existing(connection_id, "SET tokenExpiresAt = :e", {":e": expires_at})


def touch(connection_id: str, seen_at: str) -> bool:
    """Record that the connection is alive (ping); False when the record is gone."""
    return _update_existing(connection_id, "SET lastSeenAt = :s", {":s": seen_at})


def _live(item: dict[str, Any] | None, now: float) -> dict[str, int]:
    entries = (item or {}).get("conns", {})
    return {str(cid): int(expires) for cid, expires in entries.items() if int(expires) > now}


def _update_existing(connection_id: str, expression: str, values: dict[str, object]) -> bool:
    try:
        table().update_item(
            Key=keys.connection(connection_id),
            UpdateExpression=expression,
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeValues=values,
        )
    except ClientError as exc:
        if is_condition_failure(exc):
            return False
        raise
    return True
