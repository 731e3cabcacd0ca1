"""DynamoDB write units by the developer guide's rules, and a meter of what one action writes.

Item size ("DynamoDB item sizes and formats", docs.aws.amazon.com/amazondynamodb/latest/developerguide/
CapacityUnitCalculations.html): the sum over attributes of the attribute name's UTF-8 bytes plus

- string: its UTF-8 bytes; binary: its raw bytes (not the base64 sent on the wire);
- number: 1 byte per two significant digits (leading and trailing zeroes trimmed, at most 38) + 1
  (the guide calls this approximate; the sign is not counted);
- null, boolean: 1 byte;
- list, map: 3 bytes + 1 byte per element + the elements (a map element also counts its name);
- string, number and binary sets (the guide gives no rule): the sum of their elements' sizes.

Write units ("DynamoDB read and write operations", .../read-write-operations.html): a put, update or
delete costs 1 unit per KB (1,024 bytes, rounded up) of the larger of the item's before and after
images, at least 1; `BatchWriteItem` rounds each item on its own. A conditional write whose condition
fails still costs the units of the existing item, or 1 if there is none (one edition of the
guide says "of the new item"): the same formula, since its after image is its before image.
Transactions (".../transaction-apis.html", "Capacity management for transactions"): DynamoDB
reads or writes every item of the transaction twice (prepare and commit), so each item's units count
twice, a `ConditionCheck`'s item (not changed: before = after) included. What a cancelled
transaction costs is not documented; the meter counts it like that (each item twice, unchanged).
"""

from __future__ import annotations

import base64
import json
import math
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import boto3
from boto3.dynamodb.types import TypeSerializer

KB = 1024
MAX_SIGNIFICANT_DIGITS = 38
Item = Mapping[str, Mapping[str, Any]]
"""An item in the low-level attribute-value form: `{"name": {"S": "x"}, "n": {"N": "1"}}`."""


def item_size(item: Item) -> int:
    """The size in bytes of an item in the low-level form (`{"S": ...}`), by the documented rules."""
    return sum(_utf8(name) + _value_size(value) for name, value in item.items())


def typed_item_size(item: Mapping[str, Any]) -> int:
    """The size of an item in boto3's resource form (`str`, `Decimal`, `bytes`, `set`, ...)."""
    serializer = TypeSerializer()
    return item_size({name: serializer.serialize(value) for name, value in item.items()})


def write_units(old: Item | None, new: Item | None, *, transactional: bool = False) -> int:
    """Units of one item's write: 1 per KB of the larger image (None: absent), at least 1; twice in a
    transaction."""
    larger = max(item_size(old or {}), item_size(new or {}))
    return max(1, math.ceil(larger / KB)) * (2 if transactional else 1)


def number_size(text: str) -> int:
    """1 byte per two significant digits, plus 1; ValueError for what DynamoDB rejects as a number."""
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"not a DynamoDB number: {text!r}") from None
    if not number.is_finite():
        raise ValueError(f"not a DynamoDB number: {text!r}")
    digits = "".join(map(str, number.as_tuple().digits)).strip("0")
    if len(digits) > MAX_SIGNIFICANT_DIGITS:
        raise ValueError(f"{text!r} has {len(digits)} significant digits; DynamoDB allows 38")
    return math.ceil(len(digits) / 2) + 1


def _value_size(value: Mapping[str, Any]) -> int:
    if len(value) != 1:
        raise ValueError(f"an attribute value has exactly one type descriptor: {value!r}")
    ((kind, data),) = value.items()
    sizes = {
        "S": lambda: _utf8(data),
        "N": lambda: number_size(data),
        "B": lambda: len(_raw(data)),
        "BOOL": lambda: 1,
        "NULL": lambda: 1,
        "SS": lambda: sum(map(_utf8, data)),
        "NS": lambda: sum(map(number_size, data)),
        "BS": lambda: sum(len(_raw(b)) for b in data),
        "L": lambda: 3 + sum(1 + _value_size(v) for v in data),
        "M": lambda: 3 + sum(1 + _utf8(k) + _value_size(v) for k, v in data.items()),
    }
    if kind not in sizes:
        raise ValueError(f"unknown DynamoDB type descriptor {kind!r}")
    return sizes[kind]()


def _utf8(text: str) -> int:
    return len(text.encode("utf-8"))


def _raw(data: bytes | bytearray | str) -> bytes:
    """Binary as botocore returns it (bytes) or as the wire carries it (base64 text)."""
    return base64.b64decode(data, validate=True) if isinstance(data, str) else bytes(data)


@dataclass(frozen=True)
class ItemWrite:
    """One item one request wrote: its key as the wire carries it, its images' sizes in bytes, units."""

    table: str
    key: dict[str, Any]
    old_size: int
    new_size: int
    units: int


@dataclass(frozen=True)
class RequestWrites:
    """One write request (one attempt) and the items it names, in the request's order."""

    operation: str
    items: list[ItemWrite]
    failed: bool  # the condition failed or the transaction was cancelled: nothing changed

    @property
    def units(self) -> int:
        return sum(item.units for item in self.items)


@dataclass
class WriteRecord:
    """What `metered_writes` saw, request by request, and the units of them all."""

    requests: list[RequestWrites] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(request.units for request in self.requests)


WRITE_OPERATIONS = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
BILLED_FAILURES = {"ConditionalCheckFailedException", "TransactionCanceledException"}


@contextmanager
def metered_writes(client: Any, reader: Any = None) -> Iterator[WriteRecord]:
    """Record the units of every write `client` sends (each attempt that got an answer) until exit.

    Each written item is read with a consistent GetItem right before and right after its request,
    by `reader` (default: a new client for the same endpoint, so its reads are not metered). Only
    the written keys are read. Other writers of the same items meanwhile would distort the images.
    Attempts DynamoDB does not bill (throttled, invalid) and attempts without an answer are left out.
    A `BatchWriteItem`'s `UnprocessedItems` are not subtracted: moto processes every item.
    """
    reader = reader or boto3.client(
        "dynamodb", endpoint_url=client.meta.endpoint_url, region_name=client.meta.region_name
    )
    record = WriteRecord()
    schemas: dict[str, list[str]] = {}
    in_flight = threading.local()  # botocore sends an attempt and gets its answer on one thread

    def image(table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        key = {name: {"B": _raw(value["B"])} if "B" in value else value for name, value in key.items()}
        return reader.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")

    def key_names(table: str) -> list[str]:
        if table not in schemas:
            schema = reader.describe_table(TableName=table)["Table"]["KeySchema"]
            schemas[table] = [element["AttributeName"] for element in schema]
        return schemas[table]

    def before_send(request: Any, **_: Any) -> None:
        operation = request.headers["X-Amz-Target"].decode().split(".")[-1]
        if operation not in WRITE_OPERATIONS:
            return
        targets = _written_keys(operation, json.loads(request.body), key_names)
        in_flight.write = (operation, [(table, key, image(table, key)) for table, key in targets])

    def response_received(response_dict: Any, parsed_response: Any, **_: Any) -> None:
        operation, targets = getattr(in_flight, "write", None) or (None, [])
        in_flight.write = None
        if operation is None or response_dict is None:
            return
        failed = response_dict["status_code"] != 200
        if failed and parsed_response.get("Error", {}).get("Code") not in BILLED_FAILURES:
            return
        transactional = operation == "TransactWriteItems"
        items = []
        for table, key, old in targets:
            new = image(table, key)
            units = write_units(old, new, transactional=transactional)
            items.append(ItemWrite(table, key, item_size(old or {}), item_size(new or {}), units))
        record.requests.append(RequestWrites(operation, items, failed))

    events = client.meta.events
    events.register("before-send.dynamodb", before_send)
    events.register("response-received.dynamodb", response_received)
    try:
        yield record
    finally:
        events.unregister("before-send.dynamodb", before_send)
        events.unregister("response-received.dynamodb", response_received)


def _written_keys(operation: str, body: dict[str, Any], key_names: Any) -> list[tuple[str, dict]]:
    """(table, key) of every item one write request names, keys in the wire's attribute-value form."""

    def key_of(table: str, item: dict[str, Any]) -> dict[str, Any]:
        return {name: item[name] for name in key_names(table)}

    if operation == "PutItem":
        return [(body["TableName"], key_of(body["TableName"], body["Item"]))]
    if operation in ("UpdateItem", "DeleteItem"):
        return [(body["TableName"], body["Key"])]
    targets = []
    if operation == "BatchWriteItem":
        for table, requests in body["RequestItems"].items():
            for request in requests:
                put, delete = request.get("PutRequest"), request.get("DeleteRequest")
                targets.append((table, key_of(table, put["Item"]) if put else delete["Key"]))
        return targets
    for action in body["TransactItems"]:
        ((kind, details),) = action.items()
        table = details["TableName"]
        targets.append((table, key_of(table, details["Item"]) if kind == "Put" else details["Key"]))
    return targets
