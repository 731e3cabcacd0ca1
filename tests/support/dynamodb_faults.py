"""Record the DynamoDB calls code makes, and make one of them fail, on the real boto3 client.

Both work through botocore's events on the client the code uses (against moto in server mode), so
nothing in the code under test is replaced:

- `recorded_calls(client)` lists the operation and parameters of every API call (botocore's
  `before-parameter-build`: once per call, whatever its retries), from every thread;
- `failing(client, call, fault)` makes every HTTP attempt of one call (the `ordinal`-th call of its
  `operation`, counted as `recorded_calls` counts them) fail with `fault`: botocore retries it as it
  would on AWS, and the error reaches the code once its retries are spent.

botocore's backoff between those attempts is skipped, and its retry quota never runs dry
(`no_backoff`): the attempts and the error are botocore's own, so a matrix of hundreds of faults
runs in seconds and each fault meets the retries a fresh container would.
"""

from __future__ import annotations

import contextlib
import json
import threading
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ReadTimeoutError
from botocore.retries import standard


@dataclass(frozen=True)
class Call:
    """The `ordinal`-th call (1-based) of `operation` in one run."""

    operation: str
    ordinal: int

    def __str__(self) -> str:
        return f"{self.operation}#{self.ordinal}"


@dataclass(frozen=True)
class Fault:
    """What every attempt of the failing call gets: an HTTP error reply (DynamoDB did nothing), or a
    read timeout (the request reached DynamoDB, which applied it; its reply was lost)."""

    name: str
    status: int = 0
    error_type: str = ""

    def answer(self, request: Any) -> AWSResponse:
        if not self.status:
            _deliver(request)
            raise ReadTimeoutError(endpoint_url=request.url)
        body = json.dumps({"__type": self.error_type, "message": f"injected {self.name}"}).encode()
        headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "injected-fault"}
        return AWSResponse(request.url, self.status, headers, _Body(body))


THROTTLED = Fault("throttled", 400, "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException")
THROTTLING = Fault("throttling", 400, "com.amazon.coral.availability#ThrottlingException")
SERVER_ERROR = Fault("server-error", 500, "com.amazonaws.dynamodb.v20120810#InternalServerError")
TIMEOUT = Fault("timeout")
FAULTS = (THROTTLED, SERVER_ERROR, TIMEOUT)


def _deliver(request: Any) -> None:
    """Send the signed request as botocore would have, and drop DynamoDB's answer."""
    body = request.body if isinstance(request.body, bytes | None) else request.body.read()
    headers = {
        name: value.decode() if isinstance(value, bytes) else value for name, value in request.headers.items()
    }
    message = urllib.request.Request(request.url, data=body, headers=headers, method=request.method)
    with contextlib.suppress(urllib.error.HTTPError):  # an error reply is lost like any other
        urllib.request.urlopen(message, timeout=10).close()


class _Body:
    """The `raw` of an AWSResponse: botocore reads it with `stream()`."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data


CALL_EVENT = "before-parameter-build.dynamodb"


@contextmanager
def recorded_calls(client: Any) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """(operation, parameters) of every API call `client` makes inside the block, in order."""
    calls: list[tuple[str, dict[str, Any]]] = []
    lock = threading.Lock()

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        with lock:
            calls.append((model.name, params))

    client.meta.events.register(CALL_EVENT, record)
    try:
        yield calls
    finally:
        client.meta.events.unregister(CALL_EVENT, record)


def calls_of(operations: list[str]) -> list[Call]:
    """Each recorded call as (operation, ordinal), in the order they were made."""
    seen: Counter[str] = Counter()
    found = []
    for operation in operations:
        seen[operation] += 1
        found.append(Call(operation, seen[operation]))
    return found


@dataclass
class Injection:
    """What happened: how many HTTP attempts of the target call got the fault."""

    attempts: int = 0


@contextmanager
def failing(client: Any, target: Call, fault: Fault) -> Iterator[Injection]:
    """Every attempt of `target` gets `fault`; every other call goes through untouched.

    A call runs on one thread from its parameters to its last attempt, so the thread remembers
    whether the call it is making is the target.
    """
    seen: Counter[str] = Counter()
    lock = threading.Lock()
    current = threading.local()
    injection = Injection()

    def on_call(model: Any, **_: Any) -> None:
        with lock:
            seen[model.name] += 1
            current.fails = Call(model.name, seen[model.name]) == target

    def on_send(request: Any, **_: Any) -> AWSResponse | None:
        if not getattr(current, "fails", False):
            return None
        with lock:
            injection.attempts += 1
        return fault.answer(request)

    events = client.meta.events
    events.register(CALL_EVENT, on_call)
    events.register_first("before-send.dynamodb", on_send)
    try:
        yield injection
    finally:
        events.unregister("before-send.dynamodb", on_send)
        events.unregister(CALL_EVENT, on_call)


@contextmanager
def no_backoff() -> Iterator[None]:
    """botocore's retries without their sleeps, each with the retry quota of a fresh container (the
    attempts and their outcome are botocore's own)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)
        patch.setattr(standard.RetryQuotaChecker, "acquire_retry_quota", lambda self, context: True)
        yield
