"""The chat table as the stack deploys it, in moto: for the tests and benchmarks that need one."""

from __future__ import annotations

import functools
from typing import Any

import boto3


@functools.cache
def dynamodb(endpoint: str) -> Any:
    """One client per endpoint (creating one costs tens of milliseconds; tests create many tables)."""
    return boto3.client("dynamodb", endpoint_url=endpoint)


def create_table(endpoint: str, name: str) -> None:
    """The table as the stack deploys it: PK/SK strings, on-demand, TTL on `ttl`."""
    client = dynamodb(endpoint)
    client.create_table(
        TableName=name,
        AttributeDefinitions=[
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"}
    )
