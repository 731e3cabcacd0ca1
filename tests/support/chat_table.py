"""The chat table as the stack deploys it, in moto: for the tests and benchmarks that need one."""

from __future__ import annotations

import functools
import time
from typing import Any

import boto3
from chat.dal import keys
from chat.timeutil import iso


@functools.cache
def dynamodb(endpoint: str) -> Any:
    """One client per endpoint (creating one costs tens of milliseconds; tests create many tables)."""
    return boto3.client("dynamodb", endpoint_url=endpoint)


def create_table(endpoint: str, name: str) -> None:
    """The table as the stack deploys it: PK/SK strings, on-demand, TTL on `ttl`, the online index
    (tests/infrastructure/test_data_and_identity.py holds the stack's index to the same names)."""
    client = dynamodb(endpoint)
    client.create_table(
        TableName=name,
        AttributeDefinitions=[
            {"AttributeName": attribute, "AttributeType": "S"} for attribute in ("PK", "SK", keys.ONLINE_KEY)
        ],
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": keys.ONLINE_INDEX,
                "KeySchema": [
                    {"AttributeName": keys.ONLINE_KEY, "KeyType": "HASH"},
                    {"AttributeName": "SK", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["userId", "conns"]},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    client.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"}
    )


def open_for(endpoint: str, table_name: str, connection_id: str, seconds: float) -> None:
    """Make a connection's record say it has been open `seconds` already, as time passing would.

    The fan-out takes a 410 as proof that a connection is gone only once its `$connect` began 30 s
    ago or more (before that, API Gateway answers 410 to a connection still connecting): a test of
    the 410 path that does not want to wait that long backdates the record instead.
    """
    dynamodb(endpoint).update_item(
        TableName=table_name,
        Key={"PK": {"S": f"CONN#{connection_id}"}, "SK": {"S": "CONN"}},
        UpdateExpression="SET connectedAt = :at",
        ConditionExpression="attribute_exists(PK)",
        ExpressionAttributeValues={":at": {"S": iso(time.time() - seconds)}},
    )
