"""Connection records, written both ways: connection -> user, and user -> connections."""

from __future__ import annotations

from collections.abc import Iterable

from botocore.exceptions import ClientError

from chat.dal import keys
from chat.dal.client import (
    alive,
    in_parallel,
    is_condition_failure,
    query_prefix,
    table,
    table_name,
    transact,
)
from chat.models.domain import Caller, Connection


def put(caller: Caller, *, connected_at: str, ttl: int) -> None:
    """Both records in one transaction, so a crash never leaves one without the other."""
    record = {
        **keys.connection(caller.connection_id),
        "userId": caller.user_id,
        "username": caller.username,
        "tokenExpiresAt": caller.token_expires_at,
        "connectedAt": connected_at,
        "lastSeenAt": connected_at,
        "ttl": ttl,
    }
    if caller.email:
        record["email"] = caller.email
    reverse = {
        **keys.user_connection(caller.user_id, caller.connection_id),
        "connectedAt": connected_at,
        "ttl": ttl,
    }
    name = table_name()
    transact([{"Put": {"TableName": name, "Item": record}}, {"Put": {"TableName": name, "Item": reverse}}])


def delete(connection_id: str, user_id: str) -> None:
    """Both records in one transaction; deleting what is already gone is fine (idempotent)."""
    name = table_name()
    transact(
        [
            {"Delete": {"TableName": name, "Key": keys.connection(connection_id)}},
            {"Delete": {"TableName": name, "Key": keys.user_connection(user_id, connection_id)}},
        ]
    )


def get(connection_id: str) -> Connection | None:
    item = table().get_item(Key=keys.connection(connection_id), ConsistentRead=True).get("Item")
    if not alive(item):
        return None
    return Connection(
        connection_id=connection_id,
        user_id=str(item["userId"]),
        token_expires_at=int(item["tokenExpiresAt"]),
    )


def of_user(user_id: str) -> list[str]:
    """Ids of the user's live connections (a strongly consistent Query on the user's partition)."""
    items = query_prefix(keys.user_partition(user_id), keys.CONNECTION_PREFIX)
    return [str(item["SK"]).removeprefix(keys.CONNECTION_PREFIX) for item in items if alive(item)]


def of_users(user_ids: Iterable[str]) -> dict[str, list[str]]:
    """Live connection ids of each user (one Query per user, several in flight)."""
    users = list(user_ids)
    return dict(zip(users, in_parallel(of_user, users), strict=True))


def extend_token(connection_id: str, expires_at: int) -> bool:
    """Record a reauth's new token expiry; False when the connection record is gone."""
    return _update_existing(connection_id, "SET tokenExpiresAt = :e", {":e": expires_at})


def touch(connection_id: str, seen_at: str) -> bool:
    """Record that the connection is alive (ping); False when the record is gone."""
    return _update_existing(connection_id, "SET lastSeenAt = :s", {":s": seen_at})


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
