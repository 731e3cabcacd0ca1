"""Connection records (connection -> user) and each user's connection map (user -> connections).

The user's map is one small item holding every open connection with its expiry: the per-user cap is
enforced on it with optimistic concurrency (a `version` attribute), and a fan-out or a room write
reads a user's connections with one GetItem (many users' with one BatchGetItem).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from botocore.exceptions import ClientError

from chat.dal import entries, keys
from chat.dal.client import (
    TransactionCancelled,
    alive,
    batch_get,
    is_condition_failure,
    low_level,
    table,
    table_name,
    transact,
)
from chat.models.domain import Caller, ConnectionEntry, ConnectionRecord
from chat.timeutil import epoch

# Concurrent connects of one user retry the map write this often before giving up (500).
MAP_WRITE_ATTEMPTS = 4


class TooManyConnections(Exception):
    """The user already holds the allowed number of open connections."""


class MapContended(Exception):
    """The user's map changed under every attempt (a burst of connects of the same user)."""


@dataclass(frozen=True)
class UserConnections:
    """A user's open connections and the display name its last connect carried."""

    display_name: str
    connections: dict[str, ConnectionEntry]


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
        live[caller.connection_id] = ConnectionEntry(expires_at, caller.token_expires_at)
        user_item = {
            **keys.user_connections(caller.user_id),
            "conns": {cid: entries.item(entry) for cid, entry in live.items()},
            "displayName": caller.name,
            "version": version + 1,
            # the item goes once its last connection has expired
            "ttl": max(entry.expires_at for entry in live.values()),
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
        connected_at=epoch(str(item["connectedAt"])),
    )


def of_user(user_id: str, now: float) -> dict[str, ConnectionEntry]:
    """The user's live connections, from its map."""
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


def extend_token(connection_id: str, expires_at: int) -> ConnectionEntry | None:
    """Record a reauth's new token expiry; returns the connection's entry now (None when gone)."""
    new = _update_existing(connection_id, "SET tokenExpiresAt = :e", {":e": expires_at})
    return ConnectionEntry(expires_at=int(new["ttl"]), session_expires_at=expires_at) if new else None


def renew(user_id: str, connection_id: str, entry: ConnectionEntry) -> None:
    """Replace the connection's entry in the user's map (after a reauth); only if it is listed."""
    try:
        table().update_item(
            Key=keys.user_connections(user_id),
            UpdateExpression="SET conns.#c = :e",
            ConditionExpression="attribute_exists(conns.#c)",
            ExpressionAttributeNames={"#c": connection_id},
            ExpressionAttributeValues={":e": entries.item(entry)},
        )
    except ClientError as exc:
        if not is_condition_failure(exc):
            raise


class Notice(Enum):
    """What the connection record says about a connection whose session a fan-out found ended."""

    CLAIMED = "claimed"  # this caller is the one to tell it (the record now says it was told)
    TOLD = "told"  # another fan-out told it already, for this same expiry
    RENEWED = "renewed"  # a reauth moved its session past now: deliver to it
    GONE = "gone"  # no live record: the connection has ended


@dataclass(frozen=True)
class SessionNotice:
    notice: Notice
    session_expires_at: int = 0


def claim_expiry_notice(connection_id: str, now: float, claimant: str) -> SessionNotice:
    """Decide, once per session expiry across every concurrent fan-out, who tells the connection.

    One conditional write on the connection record: it succeeds for exactly one caller while the
    session has ended and nobody has told it about this expiry (`expiryToldFor`); a later reauth
    moves `tokenExpiresAt`, so its own expiry is told again. The write names its `claimant` (the
    fan-out's Lambda request id, the same on Lambda's retries of the event): a write that was
    applied but whose reply was lost (botocore's retry then fails the condition, or the function
    fails and Lambda retries it) is recognised as this caller's own claim, so the notice is still
    posted.
    """
    try:  # the client, not the resource: the fan-out calls this from several threads at once
        new = low_level().update_item(
            TableName=table_name(),
            Key=keys.connection(connection_id),
            UpdateExpression="SET expiryToldFor = tokenExpiresAt, expiryToldBy = :claimant",
            ConditionExpression=(
                "attribute_exists(PK) AND #ttl > :now AND tokenExpiresAt <= :now"
                " AND (attribute_not_exists(expiryToldFor) OR expiryToldFor <> tokenExpiresAt)"
            ),
            ExpressionAttributeNames={"#ttl": "ttl"},
            ExpressionAttributeValues={":now": int(now), ":claimant": claimant},
            ReturnValues="ALL_NEW",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )["Attributes"]
    except ClientError as exc:
        if not is_condition_failure(exc):
            raise
        old = exc.response.get("Item")
        if not old or int(old["ttl"]["N"]) <= now:
            return SessionNotice(Notice.GONE)
        session_expires_at = int(old["tokenExpiresAt"]["N"])
        if session_expires_at > now:
            return SessionNotice(Notice.RENEWED, session_expires_at)
        if old.get("expiryToldBy", {}).get("S") == claimant:
            return SessionNotice(Notice.CLAIMED, session_expires_at)  # our own write, its reply lost
        return SessionNotice(Notice.TOLD, session_expires_at)
    return SessionNotice(Notice.CLAIMED, int(new["tokenExpiresAt"]))


def touch(connection_id: str, seen_at: str) -> bool:
    """Record that the connection is alive (ping); False when the record is gone."""
    return _update_existing(connection_id, "SET lastSeenAt = :s", {":s": seen_at}) is not None


def _live(item: dict[str, Any] | None, now: float) -> dict[str, ConnectionEntry]:
    found = entries.parse_map((item or {}).get("conns"))
    return {cid: entry for cid, entry in found.items() if entry.open(now)}


def _update_existing(connection_id: str, expression: str, values: dict[str, object]) -> dict[str, Any] | None:
    """Update the connection record if it exists; its attributes after the update, or None when gone."""
    try:
        return dict(
            table().update_item(
                Key=keys.connection(connection_id),
                UpdateExpression=expression,
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )["Attributes"]
        )
    except ClientError as exc:
        if is_condition_failure(exc):
            return None
        raise
