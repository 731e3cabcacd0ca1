"""metered_writes against the moto server: exact units of each kind of write request."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from local_stack.moto_service import MotoServer
from tests.support.chat_table import create_table
from tests.support.write_units import item_size, metered_writes

KEY_BYTES = len("PK") + len("SK") + len("SK")  # names "PK", "SK" and the sort key value "SK"


@pytest.fixture(scope="module")
def table(moto_server: MotoServer) -> Iterator[str]:
    name = f"meter-{uuid.uuid4().hex[:8]}"
    create_table(moto_server.endpoint, name)
    yield name
    boto3.client("dynamodb", endpoint_url=moto_server.endpoint).delete_table(TableName=name)


@pytest.fixture
def client(moto_server: MotoServer) -> Any:
    """The client under measurement, as the code under test would hold it."""
    return boto3.client("dynamodb", endpoint_url=moto_server.endpoint)


def key(pk: str) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": "SK"}}


def sized(pk: str, total: int) -> dict[str, Any]:
    """An item of exactly `total` bytes: its key plus a `txt` string (3 bytes of name)."""
    item = key(pk) | {"txt": {"S": "x" * (total - KEY_BYTES - len(pk) - 3)}}
    assert item_size(item) == total
    return item


def fresh(client: Any, table: str, total: int | None = None) -> str:
    """A new partition key; with `total`, an item of that size is stored under it first."""
    pk = f"item-{uuid.uuid4().hex}"
    if total is not None:
        client.put_item(TableName=table, Item=sized(pk, total))
    return pk


def test_a_put_of_a_new_item_costs_its_size(client, table):
    pk = fresh(client, table)
    with metered_writes(client) as record:
        client.put_item(TableName=table, Item=sized(pk, 1500))

    (request,) = record.requests
    assert request.operation == "PutItem" and not request.failed
    (item,) = request.items
    assert (item.table, item.key, item.old_size, item.new_size, item.units) == (table, key(pk), 0, 1500, 2)
    assert record.total == 2


def test_a_put_over_a_bigger_item_costs_the_old_size(client, table):
    pk = fresh(client, table, 3000)
    with metered_writes(client) as record:
        client.put_item(TableName=table, Item=sized(pk, 100))

    (item,) = record.requests[0].items
    assert (item.old_size, item.new_size, item.units) == (3000, 100, 3)


def test_an_update_that_grows_an_item_past_one_kilobyte_costs_the_new_size(client, table):
    pk = fresh(client, table, 1000)
    with metered_writes(client) as record:
        client.update_item(
            TableName=table,
            Key=key(pk),
            UpdateExpression="SET extra = :v",
            ExpressionAttributeValues={":v": {"S": "y" * 95}},
        )

    (item,) = record.requests[0].items
    assert (item.old_size, item.new_size, item.units) == (1000, 1000 + len("extra") + 95, 2)


def test_a_delete_costs_the_deleted_item(client, table):
    pk = fresh(client, table, 2100)
    with metered_writes(client) as record:
        client.delete_item(TableName=table, Key=key(pk))

    (item,) = record.requests[0].items
    assert (item.old_size, item.new_size, item.units) == (2100, 0, 3)


def test_a_transaction_counts_every_item_twice_a_condition_check_included(client, table):
    new, grown, checked, deleted = fresh(client, table), *(fresh(client, table, n) for n in (1500, 300, 100))
    with metered_writes(client) as record:
        client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": sized(new, 500)}},
                {
                    "Update": {
                        "TableName": table,
                        "Key": key(grown),
                        "UpdateExpression": "SET extra = :v",
                        "ExpressionAttributeValues": {":v": {"S": "y" * 1000}},
                    }
                },
                {
                    "ConditionCheck": {
                        "TableName": table,
                        "Key": key(checked),
                        "ConditionExpression": "attribute_exists(PK)",
                    }
                },
                {"Delete": {"TableName": table, "Key": key(deleted)}},
            ]
        )

    (request,) = record.requests
    sizes = [(item.old_size, item.new_size, item.units) for item in request.items]
    assert sizes == [(0, 500, 2), (1500, 2505, 6), (300, 300, 2), (100, 0, 2)]
    assert record.total == 12


def test_a_batch_rounds_each_item_on_its_own(client, table):
    # The guide's example: a 500-byte item and a 3.5 KB item cost 5 units, not 4.
    small, large, gone = fresh(client, table), fresh(client, table), fresh(client, table, 1100)
    with metered_writes(client) as record:
        client.batch_write_item(
            RequestItems={
                table: [
                    {"PutRequest": {"Item": sized(small, 500)}},
                    {"PutRequest": {"Item": sized(large, 3584)}},
                    {"DeleteRequest": {"Key": key(gone)}},
                ]
            }
        )

    (request,) = record.requests
    assert [item.key for item in request.items] == [key(small), key(large), key(gone)]
    assert [item.units for item in request.items] == [1, 4, 2]
    assert record.total == 7


def test_a_failed_conditional_write_costs_the_existing_item_or_one_unit(client, table):
    existing, missing = fresh(client, table, 2000), fresh(client, table)
    with metered_writes(client) as record:
        for pk in (existing, missing):
            with pytest.raises(ClientError, match="ConditionalCheckFailed"):
                client.update_item(
                    TableName=table,
                    Key=key(pk),
                    UpdateExpression="SET extra = :v",
                    ConditionExpression="attribute_not_exists(txt) AND attribute_exists(PK)",
                    ExpressionAttributeValues={":v": {"S": "y" * 3000}},
                )

    assert [request.failed for request in record.requests] == [True, True]
    assert [(r.items[0].old_size, r.items[0].new_size, r.units) for r in record.requests] == [
        (2000, 2000, 2),
        (0, 0, 1),
    ]


def test_a_cancelled_transaction_counts_its_items_twice_unchanged(client, table):
    existing, new = fresh(client, table, 1500), fresh(client, table)
    with metered_writes(client) as record, pytest.raises(ClientError, match="TransactionCanceled"):
        client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": sized(new, 3000)}},
                {
                    "ConditionCheck": {
                        "TableName": table,
                        "Key": key(existing),
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                },
            ]
        )

    (request,) = record.requests
    assert request.failed
    sizes = [(item.old_size, item.new_size, item.units) for item in request.items]
    assert sizes == [(0, 0, 2), (1500, 1500, 4)]
    assert client.get_item(TableName=table, Key=key(new)).get("Item") is None


def test_requests_dynamodb_rejects_and_reads_are_not_counted(client, table):
    pk = fresh(client, table, 200)
    with metered_writes(client) as record:
        client.get_item(TableName=table, Key=key(pk))
        client.query(
            TableName=table,
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": {"S": pk}},
        )
        with pytest.raises(ClientError, match="ValidationException"):
            client.update_item(TableName=table, Key=key(pk), UpdateExpression="SET = broken")

    assert record.requests == []
    assert record.total == 0


def test_the_resource_form_client_is_measured_from_the_wire(moto_server, table):
    """The route code's client is a resource's: python-typed values, serialized before sending."""
    resource_table = boto3.resource("dynamodb", endpoint_url=moto_server.endpoint).Table(table)
    pk = f"item-{uuid.uuid4().hex}"
    with metered_writes(resource_table.meta.client) as record:
        resource_table.put_item(Item={"PK": pk, "SK": "SK", "blob": b"\x00" * 1900, "n": 12345})

    (item,) = record.requests[0].items
    assert item.key == key(pk)
    assert item.new_size == (2 + len(pk)) + (2 + 2) + (4 + 1900) + (1 + 4)
    assert item.units == 2


def test_only_the_written_keys_are_read_in_a_table_of_ten_thousand_items(moto_server, client, table):
    partition = f"big-{uuid.uuid4().hex}"
    with boto3.resource("dynamodb", endpoint_url=moto_server.endpoint).Table(table).batch_writer() as batch:
        for n in range(10_000):
            batch.put_item(Item={"PK": partition, "SK": f"{n:05}", "txt": "x" * 50})
    reader = boto3.client("dynamodb", endpoint_url=moto_server.endpoint)
    reads: list[str] = []
    reader.meta.events.register(
        "before-send.dynamodb", lambda request, **_: reads.append(request.headers["X-Amz-Target"].decode())
    )

    with metered_writes(client, reader) as record:
        client.update_item(
            TableName=table,
            Key={"PK": {"S": partition}, "SK": {"S": "04242"}},
            UpdateExpression="SET txt = :v",
            ExpressionAttributeValues={":v": {"S": "y" * 1100}},
        )
        client.put_item(TableName=table, Item={"PK": {"S": partition}, "SK": {"S": "10000"}})

    # Each written key is read before and after; the put also needs the key schema, once.
    operations = [target.split(".")[-1] for target in reads]
    assert operations == ["GetItem", "GetItem", "DescribeTable", "GetItem", "GetItem"]
    updated, put = (request.items[0] for request in record.requests)
    key_size = 2 + len(partition) + 2 + 5
    assert (updated.old_size, updated.new_size, updated.units) == (key_size + 3 + 50, key_size + 3 + 1100, 2)
    assert (put.old_size, put.new_size, put.units) == (0, key_size, 1)
