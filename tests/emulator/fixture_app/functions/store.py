"""Records events in the fixture table so tests can see what the emulator sent."""

import json
import os

import boto3

_table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])


def record(key, kind, event):
    _table.put_item(Item={"PK": key, "SK": kind, "event": json.dumps(event)})
