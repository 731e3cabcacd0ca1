"""DynamoDB read units by the developer guide's rules, and a meter of what one action reads.

Item size: `write_units.item_size` ("DynamoDB item sizes and formats", CapacityUnitCalculations.html).

Read units ("DynamoDB read and write operations", docs.aws.amazon.com/amazondynamodb/latest/
developerguide/read-write-operations.html): reads are billed in 4 KB units (4,096 bytes, rounded up).
A strongly consistent read costs 1 unit per 4 KB, an eventually consistent one 0.5.

- `GetItem`: the item's size, rounded up. A missing item still costs the minimum: 1 unit (0.5).
- `BatchGetItem`: each item is rounded on its own, as a `GetItem` would be; each missing key costs
  the minimum. `UnprocessedKeys` were not read and cost nothing.
- `Query`: the sizes of all the items the request read are summed, then rounded up once. Each page is
  its own request. A `Query` that reads nothing costs the minimum.
- A projection does not lower the cost: the whole item is read ("has no impact on the item size
  calculations"). A `FilterExpression` is applied after the read. `Select: COUNT` reads every item.

Indexes ("Using Global Secondary Indexes in DynamoDB", GSI.html, "Read capacity units"): a query on a
global secondary index is always eventually consistent. It is sized by the index entries it returns
(table keys, index keys and projected attributes), not by the table's items. A local secondary index
query may be consistent; one that asks for attributes the index does not project fetches the table's
items too ("Local secondary indexes", LSI.html), which the meter does not size.

The meter sizes what a response returns. So it refuses (`UnsizedRead`) every request whose response
is not what was read: a projection, a filter, `Select` other than all (projected) attributes, and the
reads it does not model (`Scan`, `TransactGetItems`, PartiQL).
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3

from tests.support.write_units import item_size

READ_UNIT_BYTES = 4096
READ_OPERATIONS = {"GetItem", "BatchGetItem", "Query"}
UNMODELLED_READS = {
    "Scan",
    "TransactGetItems",
    "ExecuteStatement",
    "BatchExecuteStatement",
    "ExecuteTransaction",
}
SIZED_SELECTS = {None, "ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES"}
HIDING_PARAMETERS = ("ProjectionExpression", "AttributesToGet", "FilterExpression", "QueryFilter")


class UnsizedRead(Exception):
    """A read request whose units the meter cannot tell from its response."""


def read_units(size: int, *, consistent: bool) -> float:
    """Units of one read of `size` bytes: 1 per 4 KB rounded up (0.5 eventually consistent), at least
    one 4 KB unit (a missing item, an empty query)."""
    return max(1, math.ceil(size / READ_UNIT_BYTES)) * (1.0 if consistent else 0.5)


@dataclass(frozen=True)
class RequestRead:
    """One read request (one attempt DynamoDB answered) on one table; a `BatchGetItem` naming two
    tables gives two."""

    operation: str
    table: str
    index: str | None
    consistent: bool
    item_sizes: tuple[int, ...]  # each returned item's (index entry's) size in bytes, in order
    missing: int  # keys asked for and not found (GetItem, BatchGetItem)
    units: float

    @property
    def bytes_read(self) -> int:
        return sum(self.item_sizes)


@dataclass
class ReadRecord:
    """What `metered_reads` saw, request by request, and the units of them all."""

    requests: list[RequestRead] = field(default_factory=list)

    @property
    def total(self) -> float:
        return sum(request.units for request in self.requests)

    def of(self, operation: str) -> list[RequestRead]:
        """The requests of one operation ("GetItem", "BatchGetItem", "Query"), in order."""
        return [request for request in self.requests if request.operation == operation]


_Target = tuple[str, str | None, bool, int]
"""What one request reads of one table: (table, index, consistent, keys asked for)."""


@dataclass(frozen=True)
class _Index:
    is_global: bool
    projection: str  # "ALL", "KEYS_ONLY" or "INCLUDE"


@contextmanager
def metered_reads(client: Any, reader: Any = None) -> Iterator[ReadRecord]:
    """Record the units of every read `client` sends (each attempt answered with 200) until exit.

    `client` is a low-level client or a resource's (`table.meta.client`): both are read on the wire.
    A request the meter cannot size raises `UnsizedRead` before it is sent; should the caller swallow
    it, leaving the block raises it again. An index query's table is described once, by `reader`
    (default: a new client for the same endpoint), to tell a global index from a local one. Safe for
    threads sharing `client`: each request's state travels in botocore's per-call context.
    """
    reader = reader or boto3.client(
        "dynamodb", endpoint_url=client.meta.endpoint_url, region_name=client.meta.region_name
    )
    record = ReadRecord()
    refused: list[str] = []
    indexes: dict[str, dict[str, _Index]] = {}
    lock = threading.Lock()
    stash = f"metered_reads.{id(record)}"  # this meter's key in botocore's request context

    def index_of(table: str, name: str) -> _Index | None:
        with lock:
            if table not in indexes:
                description = reader.describe_table(TableName=table)["Table"]
                indexes[table] = {
                    index["IndexName"]: _Index(is_global, index["Projection"]["ProjectionType"])
                    for is_global, kind in (
                        (True, "GlobalSecondaryIndexes"),
                        (False, "LocalSecondaryIndexes"),
                    )
                    for index in description.get(kind, [])
                }
            return indexes[table].get(name)

    def refuse(operation: str, table: str | None, why: str) -> None:
        where = f" on table {table!r}" if table else ""
        message = f"metered_reads cannot size {operation}{where}: {why}"
        with lock:
            refused.append(message)
        raise UnsizedRead(message)

    def plan(operation: str, body: dict[str, Any]) -> list[_Target]:
        """(table, index, consistent, keys asked for) per table the request reads, or a refusal."""
        if operation == "BatchGetItem":
            targets: list[_Target] = []
            for table, wanted in body["RequestItems"].items():
                hidden = [name for name in HIDING_PARAMETERS if name in wanted]
                if hidden:
                    refuse(operation, table, f"{hidden[0]} returns less than it reads")
                targets.append((table, None, bool(wanted.get("ConsistentRead")), len(wanted["Keys"])))
            return targets
        table = str(body["TableName"])
        hidden = [name for name in HIDING_PARAMETERS if name in body]
        if hidden:
            refuse(operation, table, f"{hidden[0]} returns less than it reads")
        select = body.get("Select")
        if select not in SIZED_SELECTS:
            refuse(operation, table, f"Select {select} does not return what it reads")
        consistent = bool(body.get("ConsistentRead"))
        index_name: str | None = body.get("IndexName")
        if index_name is not None:
            index = index_of(table, index_name)
            if index is not None and select == "ALL_ATTRIBUTES" and index.projection != "ALL":
                refuse(operation, table, f"Select ALL_ATTRIBUTES on index {index_name!r} reads the table too")
            if index is not None and index.is_global:
                consistent = False
        return [(table, index_name, consistent, 1 if operation == "GetItem" else 0)]

    def before_call(model: Any, params: Any, context: Any, **_: Any) -> None:
        operation = model.name
        if operation in UNMODELLED_READS:
            refuse(operation, None, "the meter does not model its reads")
        if operation in READ_OPERATIONS:
            context[stash] = (operation, plan(operation, json.loads(params["body"])))

    def response_received(response_dict: Any, parsed_response: Any, context: Any, **_: Any) -> None:
        if stash not in context or response_dict is None or response_dict["status_code"] != 200:
            return  # not a read of this meter's, or not answered, or not billed (throttled, invalid)
        operation, targets = context[stash]
        requests = [_read(operation, target, parsed_response) for target in targets]
        with lock:
            record.requests.extend(requests)

    events = client.meta.events
    events.register("before-call.dynamodb", before_call)
    events.register("response-received.dynamodb", response_received)
    try:
        yield record
    finally:
        events.unregister("before-call.dynamodb", before_call)
        events.unregister("response-received.dynamodb", response_received)
    if refused:
        raise UnsizedRead(f"{len(refused)} request(s) refused inside the block; the first: {refused[0]}")


def _read(operation: str, target: _Target, response: Mapping[str, Any]) -> RequestRead:
    table, index, consistent, asked = target
    if operation == "GetItem":
        items = [response["Item"]] if "Item" in response else []
    elif operation == "BatchGetItem":
        items = response.get("Responses", {}).get(table, [])
        unprocessed = response.get("UnprocessedKeys", {}).get(table, {}).get("Keys", [])
        asked -= len(unprocessed)
    else:
        items = response["Items"]
    sizes = tuple(item_size(item) for item in items)
    missing = 0 if operation == "Query" else asked - len(items)
    if operation == "Query":
        units = read_units(sum(sizes), consistent=consistent)
    else:
        units = sum(read_units(size, consistent=consistent) for size in sizes)
        units += missing * read_units(0, consistent=consistent)
    return RequestRead(operation, table, index, consistent, sizes, missing, units)
