"""The moto server's two speed-ups keep DynamoDB's semantics: Query by partition, transaction rollback."""

from __future__ import annotations

import uuid
from typing import Any

import boto3
import pytest

from local_stack.moto_service import MotoServer


@pytest.fixture
def table(moto_server: MotoServer) -> tuple[Any, str]:
    client = boto3.client("dynamodb", endpoint_url=moto_server.endpoint)
    name = f"t-{uuid.uuid4().hex[:8]}"
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return client, name


def key(pk: str, sk: str) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def test_query_reads_one_partition_in_key_order_and_pages(table: tuple[Any, str]) -> None:
    client, name = table
    for partition in ("a", "b", "c"):
        for number in (3, 1, 2, 5, 4):
            client.put_item(TableName=name, Item={**key(partition, f"s{number}"), "v": {"S": partition}})
    query = {
        "TableName": name,
        "KeyConditionExpression": "PK = :p",
        "ExpressionAttributeValues": {":p": {"S": "b"}},
    }
    first = client.query(**query, Limit=2)
    assert [item["SK"]["S"] for item in first["Items"]] == ["s1", "s2"]
    second = client.query(**query, Limit=10, ExclusiveStartKey=first["LastEvaluatedKey"])
    assert [item["SK"]["S"] for item in second["Items"]] == ["s3", "s4", "s5"]
    newest = client.query(**query, ScanIndexForward=False, Limit=1)
    assert newest["Items"] == [{**key("b", "s5"), "v": {"S": "b"}}]
    ranged = client.query(
        TableName=name,
        KeyConditionExpression="PK = :p AND SK > :s",
        ExpressionAttributeValues={":p": {"S": "c"}, ":s": {"S": "s3"}},
    )
    assert [item["SK"]["S"] for item in ranged["Items"]] == ["s4", "s5"]
    assert client.query(**{**query, "ExpressionAttributeValues": {":p": {"S": "none"}}})["Items"] == []


def test_a_cancelled_transaction_leaves_every_item_as_it_was(table: tuple[Any, str]) -> None:
    client, name = table
    client.put_item(TableName=name, Item={**key("a", "a"), "n": {"N": "1"}})
    client.put_item(TableName=name, Item={**key("gone", "gone")})
    with pytest.raises(client.exceptions.TransactionCanceledException) as cancelled:
        client.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": name,
                        "Key": key("a", "a"),
                        "UpdateExpression": "ADD n :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
                {"Put": {"TableName": name, "Item": key("new", "new")}},
                {"Delete": {"TableName": name, "Key": key("gone", "gone")}},
                {
                    "ConditionCheck": {
                        "TableName": name,
                        "Key": key("x", "x"),
                        "ConditionExpression": "attribute_exists(PK)",
                    }
                },
            ]
        )
    reasons = [reason["Code"] for reason in cancelled.value.response["CancellationReasons"]]
    assert reasons == ["None", "None", "None", "ConditionalCheckFailed"]
    assert client.get_item(TableName=name, Key=key("a", "a"))["Item"]["n"] == {"N": "1"}
    assert "Item" not in client.get_item(TableName=name, Key=key("new", "new"))
    assert "Item" in client.get_item(TableName=name, Key=key("gone", "gone"))


def test_a_committed_transaction_applies_every_write(table: tuple[Any, str]) -> None:
    client, name = table
    client.transact_write_items(
        TransactItems=[
            {
                "Put": {
                    "TableName": name,
                    "Item": {**key("m", "1"), "t": {"S": "x"}},
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            },
            {
                "Update": {
                    "TableName": name,
                    "Key": key("room", "meta"),
                    "UpdateExpression": "ADD seq :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                }
            },
        ]
    )
    assert client.get_item(TableName=name, Key=key("m", "1"))["Item"]["t"] == {"S": "x"}
    assert client.get_item(TableName=name, Key=key("room", "meta"))["Item"]["seq"] == {"N": "1"}
