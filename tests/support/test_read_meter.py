"""metered_reads against the moto server: exact units of each kind of read request."""

from __future__ import annotations

import contextlib
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from local_stack.moto_service import MotoServer
from tests.support.chat_table import create_table
from tests.support.read_units import RequestRead, UnsizedRead, metered_reads
from tests.support.write_units import typed_item_size

INDEX = "Online"


@pytest.fixture(scope="module")
def table(moto_server: MotoServer) -> Iterator[str]:
    name = f"read-meter-{uuid.uuid4().hex[:8]}"
    create_table(moto_server.endpoint, name)
    yield name
    boto3.client("dynamodb", endpoint_url=moto_server.endpoint).delete_table(TableName=name)


@pytest.fixture(scope="module")
def indexed(moto_server: MotoServer) -> Iterator[str]:
    """A table with a global secondary index that projects two attributes besides the keys."""
    name = f"read-meter-gsi-{uuid.uuid4().hex[:8]}"
    client = boto3.client("dynamodb", endpoint_url=moto_server.endpoint)
    client.create_table(
        TableName=name,
        AttributeDefinitions=[
            {"AttributeName": attribute, "AttributeType": "S"} for attribute in ("PK", "SK", "onlineKey")
        ],
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": INDEX,
                "KeySchema": [
                    {"AttributeName": "onlineKey", "KeyType": "HASH"},
                    {"AttributeName": "SK", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["userId", "conns"]},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    yield name
    client.delete_table(TableName=name)


@pytest.fixture
def client(moto_server: MotoServer) -> Any:
    """A low-level client under measurement."""
    return boto3.client("dynamodb", endpoint_url=moto_server.endpoint)


@pytest.fixture
def resource(moto_server: MotoServer) -> Any:
    """A resource, as the route code holds one: its tables' `meta.client` is the client measured."""
    return boto3.resource("dynamodb", endpoint_url=moto_server.endpoint)


def sized(pk: str, total: int, sk: str = "SK") -> dict[str, Any]:
    """An item in the resource form of exactly `total` bytes: its key plus a `txt` string."""
    item = {"PK": pk, "SK": sk, "txt": ""}
    item["txt"] = "x" * (total - typed_item_size(item))
    assert typed_item_size(item) == total
    return item


def wire_key(pk: str, sk: str = "SK") -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def fresh() -> str:
    return f"item-{uuid.uuid4().hex}"


def ten_items(resource: Any, table: str) -> str:
    """A new partition of 10 items of 1,000 bytes each (sort keys 00 to 09)."""
    pk = fresh()
    with resource.Table(table).batch_writer() as batch:
        for n in range(10):
            batch.put_item(Item=sized(pk, 1000, f"{n:02}"))
    return pk


@pytest.mark.parametrize(
    ("size", "strong", "eventual"), [(4095, 1.0, 0.5), (4096, 1.0, 0.5), (4097, 2.0, 1.0)]
)
def test_a_get_item_costs_its_size_in_4_kb_units(resource, table, size, strong, eventual):
    items = resource.Table(table)
    pk = fresh()
    items.put_item(Item=sized(pk, size))
    with metered_reads(items.meta.client) as record:
        items.get_item(Key={"PK": pk, "SK": "SK"}, ConsistentRead=True)
        items.get_item(Key={"PK": pk, "SK": "SK"})

    assert record.requests == [
        RequestRead("GetItem", table, None, True, (size,), 0, strong),
        RequestRead("GetItem", table, None, False, (size,), 0, eventual),
    ]
    assert record.total == strong + eventual


def test_a_missing_item_costs_the_minimum(resource, table):
    items = resource.Table(table)
    pk = fresh()
    with metered_reads(items.meta.client) as record:
        assert "Item" not in items.get_item(Key={"PK": pk, "SK": "SK"}, ConsistentRead=True)
        assert "Item" not in items.get_item(Key={"PK": pk, "SK": "SK"})

    assert record.requests == [
        RequestRead("GetItem", table, None, True, (), 1, 1.0),
        RequestRead("GetItem", table, None, False, (), 1, 0.5),
    ]
    assert record.total == 1.5


def test_a_batch_get_rounds_each_item_and_each_missing_key_per_table(resource, client, table, indexed):
    small, large, missing, other = fresh(), fresh(), fresh(), fresh()
    resource.Table(table).put_item(Item=sized(small, 500))
    resource.Table(table).put_item(Item=sized(large, 4097))
    resource.Table(indexed).put_item(Item=sized(other, 100))
    with metered_reads(client) as record:
        client.batch_get_item(
            RequestItems={
                table: {
                    "Keys": [wire_key(small), wire_key(large), wire_key(missing)],
                    "ConsistentRead": True,
                },
                indexed: {"Keys": [wire_key(other)]},
            }
        )

    first, second = record.requests
    # The response's order of items is not the request's.
    assert (first.operation, first.table, first.index, first.consistent) == (
        "BatchGetItem",
        table,
        None,
        True,
    )
    assert (sorted(first.item_sizes), first.missing, first.units) == ([500, 4097], 1, 1.0 + 2.0 + 1.0)
    assert second == RequestRead("BatchGetItem", indexed, None, False, (100,), 0, 0.5)
    assert record.total == 4.5


def test_a_query_sums_its_items_before_rounding_a_batch_get_does_not(resource, table):
    pk = ten_items(resource, table)
    items = resource.Table(table)
    with metered_reads(items.meta.client) as record:
        items.query(KeyConditionExpression=Key("PK").eq(pk), ConsistentRead=True)
        items.query(KeyConditionExpression=Key("PK").eq(pk))
        resource.batch_get_item(
            RequestItems={
                table: {"Keys": [{"PK": pk, "SK": f"{n:02}"} for n in range(10)], "ConsistentRead": True}
            }
        )

    strong, eventual = record.of("Query")
    assert strong == RequestRead("Query", table, None, True, (1000,) * 10, 0, 3.0)  # 10,000 bytes
    assert eventual == RequestRead("Query", table, None, False, (1000,) * 10, 0, 1.5)
    (batch,) = record.of("BatchGetItem")
    assert (batch.bytes_read, batch.missing, batch.units) == (10_000, 0, 10.0)
    assert record.total == 14.5


def test_each_page_of_a_query_is_rounded_on_its_own(resource, client, table):
    pk = ten_items(resource, table)
    pages = client.get_paginator("query").paginate(
        TableName=table,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": pk}},
        ConsistentRead=True,
        Limit=3,
    )
    with metered_reads(client) as record:
        assert [page["Count"] for page in pages] == [3, 3, 3, 1]

    # 10,000 bytes in one request would be 3 units; in pages of 3,000, 3,000, 3,000 and 1,000, 4.
    assert [(request.bytes_read, request.units) for request in record.requests] == [
        (3000, 1.0),
        (3000, 1.0),
        (3000, 1.0),
        (1000, 1.0),
    ]
    assert record.total == 4.0


def test_a_query_that_finds_nothing_costs_the_minimum(resource, table):
    items = resource.Table(table)
    with metered_reads(items.meta.client) as record:
        items.query(KeyConditionExpression=Key("PK").eq(fresh()), ConsistentRead=True)
        items.query(KeyConditionExpression=Key("PK").eq(fresh()))

    assert record.requests == [
        RequestRead("Query", table, None, True, (), 0, 1.0),
        RequestRead("Query", table, None, False, (), 0, 0.5),
    ]


def test_a_global_index_query_is_eventual_and_sized_by_the_projected_entries(resource, indexed):
    items, online = resource.Table(indexed), fresh()
    entries = []
    for n in range(3):
        entry = {"PK": fresh(), "SK": f"{n}", "onlineKey": online, "userId": f"user-{n}", "conns": {"c"}}
        entry["conns"] = {"c" * (1500 - typed_item_size(entry) + 1)}  # an entry of exactly 1,500 bytes
        assert typed_item_size(entry) == 1500
        entries.append(entry)
        items.put_item(Item=entry | {"profile": "p" * 6000})  # not projected: 7,507 bytes in the table

    with metered_reads(items.meta.client) as record:
        found = items.query(IndexName=INDEX, KeyConditionExpression=Key("onlineKey").eq(online))["Items"]

    assert sorted(found, key=lambda item: item["SK"]) == entries
    # 4,500 bytes of entries, eventually consistent: 1 unit (the table's items would be 3).
    assert record.requests == [RequestRead("Query", indexed, INDEX, False, (1500,) * 3, 0, 1.0)]


REFUSED = {
    "GetItem with ProjectionExpression": (
        lambda client, table, indexed: client.get_item(
            TableName=table, Key=wire_key(fresh()), ProjectionExpression="PK"
        ),
        r"cannot size GetItem on table '{table}': ProjectionExpression",
    ),
    "Query with Select COUNT": (
        lambda client, table, indexed: client.query(
            TableName=table,
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": {"S": fresh()}},
            Select="COUNT",
        ),
        r"cannot size Query on table '{table}': Select COUNT",
    ),
    "Query with FilterExpression": (
        lambda client, table, indexed: client.query(
            TableName=table,
            KeyConditionExpression="PK = :pk",
            FilterExpression="txt = :t",
            ExpressionAttributeValues={":pk": {"S": fresh()}, ":t": {"S": "x"}},
        ),
        r"cannot size Query on table '{table}': FilterExpression",
    ),
    "BatchGetItem with ProjectionExpression": (
        lambda client, table, indexed: client.batch_get_item(
            RequestItems={table: {"Keys": [wire_key(fresh())], "ProjectionExpression": "PK"}}
        ),
        r"cannot size BatchGetItem on table '{table}': ProjectionExpression",
    ),
    "Query of all attributes on an INCLUDE index": (
        lambda client, table, indexed: client.query(
            TableName=indexed,
            IndexName=INDEX,
            KeyConditionExpression="onlineKey = :k",
            ExpressionAttributeValues={":k": {"S": fresh()}},
            Select="ALL_ATTRIBUTES",
        ),
        r"cannot size Query on table '{indexed}': Select ALL_ATTRIBUTES on index 'Online'",
    ),
    "Scan": (lambda client, table, indexed: client.scan(TableName=table), r"cannot size Scan: "),
    "TransactGetItems": (
        lambda client, table, indexed: client.transact_get_items(
            TransactItems=[{"Get": {"TableName": table, "Key": wire_key(fresh())}}]
        ),
        r"cannot size TransactGetItems: ",
    ),
}


@pytest.mark.parametrize("case", REFUSED)
def test_a_request_it_cannot_size_is_refused_before_it_is_sent(client, table, indexed, case):
    call, message = REFUSED[case]
    sent: list[str] = []
    client.meta.events.register("before-send.dynamodb", lambda request, **_: sent.append(request.url))
    with (
        pytest.raises(UnsizedRead, match=message.format(table=table, indexed=indexed)),
        metered_reads(client) as record,
    ):
        call(client, table, indexed)

    assert sent == []
    assert record.requests == []


def test_the_resource_form_is_refused_too(resource, table):
    items = resource.Table(table)
    with pytest.raises(UnsizedRead, match="FilterExpression"), metered_reads(items.meta.client):
        items.query(KeyConditionExpression=Key("PK").eq(fresh()), FilterExpression=Attr("txt").exists())


def test_a_refusal_the_caller_swallows_fails_the_block(client, table):
    refused = r"1 request\(s\) refused .* the first: metered_reads cannot size Scan"
    with pytest.raises(UnsizedRead, match=refused), metered_reads(client) as record:
        with contextlib.suppress(UnsizedRead):  # as a handler that logs and carries on would
            client.scan(TableName=table)
        client.get_item(TableName=table, Key=wire_key(fresh()))

    assert [request.operation for request in record.requests] == ["GetItem"]


def test_writes_and_requests_dynamodb_rejects_are_not_counted(client, table, indexed):
    with metered_reads(client) as record:
        client.put_item(TableName=table, Item=wire_key(fresh()))
        client.describe_table(TableName=table)
        with pytest.raises(ClientError, match="ResourceNotFoundException"):
            client.get_item(TableName=f"{table}-absent", Key=wire_key(fresh()))
        with pytest.raises(ClientError, match="Consistent reads are not supported on global secondary"):
            client.query(
                TableName=indexed,
                IndexName=INDEX,
                KeyConditionExpression="onlineKey = :k",
                ExpressionAttributeValues={":k": {"S": fresh()}},
                ConsistentRead=True,
            )

    assert record.requests == []
    assert record.total == 0


def test_threads_sharing_one_client_each_get_their_own_reads(resource, client, table):
    sizes = [1000 * (n + 1) for n in range(8)]  # 1, 1, 1, 1, 2, 2, 2, 2 units
    keys = {size: fresh() for size in sizes}
    for size, pk in keys.items():
        resource.Table(table).put_item(Item=sized(pk, size))

    def read(size: int) -> None:
        for _ in range(10):
            client.get_item(TableName=table, Key=wire_key(keys[size]), ConsistentRead=True)

    with metered_reads(client) as record, ThreadPoolExecutor(len(sizes)) as pool:
        list(pool.map(read, sizes))

    assert Counter((request.bytes_read, request.units) for request in record.requests) == {
        (size, 1.0 if size <= 4096 else 2.0): 10 for size in sizes
    }
    assert record.total == 10 * (4 * 1.0 + 4 * 2.0)
