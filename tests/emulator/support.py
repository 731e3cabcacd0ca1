"""Helpers for the emulator conformance tests: URLs, the fixture table, waiting for recorded events."""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import boto3
from boto3.dynamodb.conditions import Key

from tests.support.local_stack import LocalStackProcess

FIXTURE_APP = "tests.emulator.fixture_app.app:build_app"
ASYNC_SCALE = 0.005  # the session stack's async clock: Lambda's one-minute retry delay is 0.3 s


def url(stack: LocalStackProcess, token: str | None = "allow", **query: str) -> str:
    params = {**({"idToken": token} if token is not None else {}), **query}
    return stack.outputs["WebSocketUrl"] + ("?" + urlencode(params) if params else "")


def probe() -> str:
    return uuid.uuid4().hex


def table(stack: LocalStackProcess) -> Any:
    resource = boto3.resource("dynamodb", endpoint_url=stack.outputs["DynamoDBEndpoint"])
    return resource.Table(stack.outputs["TableName"])


def recorded(stack: LocalStackProcess, key: str, *, wait: float = 10.0) -> dict[str, dict[str, Any]]:
    """The events the fixture functions recorded under ``key`` (by kind), waiting up to ``wait`` s."""
    deadline = time.monotonic() + wait
    while True:
        items = table(stack).query(KeyConditionExpression=Key("PK").eq(key))["Items"]
        if items or time.monotonic() > deadline:
            return {item["SK"]: json.loads(item["event"]) for item in items}
        time.sleep(0.1)


def recorded_kind(stack: LocalStackProcess, key: str, kind: str, *, wait: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + wait
    while True:
        events = recorded(stack, key, wait=0)
        if kind in events:
            return events[kind]
        assert time.monotonic() < deadline, f"no {kind} event recorded for {key}; got {sorted(events)}"
        time.sleep(0.1)


def management(stack: LocalStackProcess) -> Any:
    return boto3.client("apigatewaymanagementapi", endpoint_url=stack.outputs["ConnectionsEndpoint"])


def processes_mentioning(text: str) -> list[int]:
    """Process ids (other than this one) whose command line contains ``text``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            command = (
                Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            )
        except OSError:
            continue
        if text in command:
            found.append(int(entry))
    return found
