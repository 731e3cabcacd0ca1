"""One DynamoDB resource per container, created on first use (boto3 honours AWS_ENDPOINT_URL_DYNAMODB).

The table is named once, at init, by `use_table` (the handlers pass their settings' TABLE_NAME).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeGuard, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

_CONFIG = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 3})
BATCH_GET_MAX = 100
BATCH_WRITE_MAX = 25
# Unprocessed keys or items (throttling) are retried this often, with jittered exponential backoff.
UNPROCESSED_ATTEMPTS = 5
UNPROCESSED_BACKOFF_SECONDS = 0.05
# Requests in flight for one action that touches many items (a user's rooms, a room's members);
# below botocore's 10 pooled connections.
PARALLEL_REQUESTS = 8
_resource: Any = None
_table_name: str | None = None
_tables: dict[str, Any] = {}
_workers: ThreadPoolExecutor | None = None
_workers_lock = threading.Lock()

T = TypeVar("T")
R = TypeVar("R")


class ConditionFailed(Exception):
    """A write's condition did not hold (the caller decides what that means)."""


class Unprocessed(Exception):
    """A batch request still had unprocessed keys or items after every retry."""


class TransactionCancelled(Exception):
    """A transaction was cancelled; `reasons` holds one cancellation code (or None) per item, in order."""

    def __init__(self, reasons: list[str | None]) -> None:
        super().__init__(f"transaction cancelled: {reasons}")
        self.reasons = reasons


def resource() -> Any:
    global _resource
    if _resource is None:
        _resource = boto3.resource("dynamodb", config=_CONFIG)
    return _resource


def use_table(name: str) -> None:
    """Name the table every later call uses (once per container; tests name theirs)."""
    global _table_name
    _table_name = name


def table() -> Any:
    name = _table_name
    if name is None:
        raise RuntimeError("no table: call chat.dal.client.use_table(name) first")
    if name not in _tables:
        _tables[name] = resource().Table(name)
    return _tables[name]


def low_level() -> Any:
    """The resource's client: its calls take and return plain Python values, like the resource's."""
    return resource().meta.client


def table_name() -> str:
    return str(table().name)


def transact(items: list[dict[str, Any]]) -> None:
    """TransactWriteItems; raises TransactionCancelled with the per-item reasons."""
    try:
        low_level().transact_write_items(TransactItems=items)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "TransactionCanceledException":
            raise
        reasons = [reason.get("Code") for reason in exc.response.get("CancellationReasons", [])]
        raise TransactionCancelled([None if code in (None, "None") else code for code in reasons]) from exc


def query_prefix(partition: str, sort_prefix: str) -> list[dict[str, Any]]:
    """Every item of one partition whose sort key starts with `sort_prefix` (strongly consistent)."""
    request: dict[str, Any] = {
        "TableName": table_name(),
        "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
        "ExpressionAttributeValues": {":pk": partition, ":prefix": sort_prefix},
        "ConsistentRead": True,
    }
    items: list[dict[str, Any]] = []
    while True:
        page = low_level().query(**request)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def in_parallel(function: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """`[function(item) for item in items]`, with up to PARALLEL_REQUESTS of them in flight.

    The functions must only call the client (`low_level()`, thread-safe) with string expressions:
    boto3's resource objects and condition builders are not safe to share between threads.
    """
    items = list(items)
    if len(items) < 2:
        return [function(item) for item in items]
    global _workers
    table_name()  # create the client and the table name here, not racing in the workers
    with _workers_lock:
        if _workers is None:
            _workers = ThreadPoolExecutor(max_workers=PARALLEL_REQUESTS, thread_name_prefix="dynamodb")
    return list(_workers.map(function, items))


def batch_get(item_keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The items that exist among `item_keys` (BatchGetItem, 100 keys a request, strongly consistent)."""
    name = table_name()
    found: list[dict[str, Any]] = []
    for start in range(0, len(item_keys), BATCH_GET_MAX):
        chunk = item_keys[start : start + BATCH_GET_MAX]
        pending: dict[str, Any] = {name: {"Keys": chunk, "ConsistentRead": True}}
        for attempt in range(UNPROCESSED_ATTEMPTS):
            _back_off(attempt)
            page = resource().batch_get_item(RequestItems=pending)
            found += page["Responses"].get(name, [])
            pending = page.get("UnprocessedKeys") or {}
            if not pending:
                break
        else:
            raise Unprocessed(f"{len(pending[name]['Keys'])} keys still unprocessed")
    return found


def batch_put(items: list[dict[str, Any]]) -> None:
    """Put every item (BatchWriteItem, 25 a request), retrying what DynamoDB leaves unprocessed."""
    name = table_name()
    for start in range(0, len(items), BATCH_WRITE_MAX):
        pending: dict[str, Any] = {
            name: [{"PutRequest": {"Item": item}} for item in items[start : start + BATCH_WRITE_MAX]]
        }
        for attempt in range(UNPROCESSED_ATTEMPTS):
            _back_off(attempt)
            pending = low_level().batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            if not pending:
                break
        else:
            raise Unprocessed(f"{len(pending[name])} items still unprocessed")


def _back_off(attempt: int) -> None:
    """Before a retry of unprocessed keys or items: full jitter, as AWS's SDK guidance says."""
    if attempt:
        time.sleep(random.uniform(0, UNPROCESSED_BACKOFF_SECONDS * 2**attempt))


def update_if(**request: Any) -> bool:
    """UpdateItem (the low-level client's parameters, the table named here); False, and nothing
    written, when its condition did not hold."""
    try:
        low_level().update_item(TableName=table_name(), **request)
    except ClientError as exc:
        if is_condition_failure(exc):
            return False
        raise
    return True


def is_condition_failure(exc: ClientError) -> bool:
    code: str = exc.response["Error"]["Code"]
    return code == "ConditionalCheckFailedException"


def alive(item: dict[str, Any] | None, now: float | None = None) -> TypeGuard[dict[str, Any]]:
    """False for a missing item or one whose TTL has passed (DynamoDB deletes those days late)."""
    if item is None:
        return False
    ttl = item.get("ttl")
    return ttl is None or int(ttl) > (time.time() if now is None else now)
