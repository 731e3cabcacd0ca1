"""The only `@connections` code: post one frame to many connections, or close connections
(DeleteConnection), concurrently, with bounded retries.

One boto3 client per endpoint (in practice one per container) and one bounded thread pool whose size
matches the client's HTTP connection pool, so every worker has a connection and none waits for one.
A slow or failing connection holds one worker; the others go on. `GoneException` (410) means the
connection is closed: it is reported so that its records are removed. Throttling (429), server errors
(5xx) and timeouts are retried with backoff and never reported as gone. `PayloadTooLargeException`
(413: over API Gateway's 128 KB) fails that post for good, without a retry.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotocoreConnectionError

import metric_names

# Each post costs 0.6-0.9 ms of CPU in botocore (signing, HTTP): past ~16 workers on one vCPU the
# threads only contend for the GIL. benchmarks/bench_fanout.py measures it against the ideal.
POOL_SIZE = 16
MAX_ATTEMPTS = 3
BACKOFF_SECONDS = 0.05
_CONFIG = Config(
    max_pool_connections=POOL_SIZE,
    connect_timeout=1,
    read_timeout=2,
    retries={"mode": "standard", "total_max_attempts": 1},
)

DELIVERED = "delivered"
GONE = "gone"
THROTTLED = "throttled"
SERVER_ERROR = "server_error"
TIMEOUT = "timeout"
REJECTED = "rejected"
TOO_LARGE = metric_names.POST_TOO_LARGE_KIND

_clients: dict[str, Any] = {}
_clients_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None


@dataclass
class Outcome:
    delivered: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # connection id -> kind


def post(endpoint: str, connection_ids: Iterable[str], frame: dict[str, Any]) -> Outcome:
    """Send `frame` to every connection; returns what happened to each."""
    targets = list(dict.fromkeys(connection_ids))
    if not targets:
        return Outcome()
    client = _client(endpoint)
    # UTF-8 as it is, not `\u` escapes: an emoji is 4 bytes, not 12, against API Gateway's 128 KB.
    data = json.dumps(frame, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    results = _pool().map(lambda connection_id: _post_one(client, connection_id, data), targets)
    return _sorted(targets, results)


def close(endpoint: str, connection_ids: Iterable[str]) -> Outcome:
    """Close every connection (API Gateway then runs its `$disconnect`); `delivered` lists the closed."""
    targets = list(dict.fromkeys(connection_ids))
    if not targets:
        return Outcome()
    client = _client(endpoint)
    results = _pool().map(
        lambda connection_id: _attempt(client, client.delete_connection, ConnectionId=connection_id), targets
    )
    return _sorted(targets, results)


def _sorted(targets: list[str], results: Iterable[str]) -> Outcome:
    outcome = Outcome()
    for connection_id, result in zip(targets, results, strict=True):
        if result == DELIVERED:
            outcome.delivered.append(connection_id)
        elif result == GONE:
            outcome.gone.append(connection_id)
        else:
            outcome.failed[connection_id] = result
    return outcome


def _post_one(client: Any, connection_id: str, data: bytes) -> str:
    return _attempt(client, client.post_to_connection, ConnectionId=connection_id, Data=data)


def _attempt(client: Any, call: Any, **params: Any) -> str:
    """One `@connections` request, retried on throttling, 5xx and timeouts; returns what happened."""
    kind = TIMEOUT
    for attempt in range(MAX_ATTEMPTS):
        if attempt:
            time.sleep(random.uniform(0, BACKOFF_SECONDS * 2**attempt))
        try:
            call(**params)
            return DELIVERED
        except client.exceptions.GoneException:  # before ClientError: it is a subclass of it
            return GONE
        except client.exceptions.PayloadTooLargeException:  # the same frame would be refused again
            return TOO_LARGE
        except ClientError as exc:
            kind = _kind(exc)
            if kind == REJECTED:
                return kind
        except (HTTPClientError, BotocoreConnectionError):
            kind = TIMEOUT
    return kind


def _kind(exc: ClientError) -> str:
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
    if status == 429 or exc.response["Error"]["Code"] in ("LimitExceededException", "ThrottlingException"):
        return THROTTLED
    if status >= 500:
        return SERVER_ERROR
    return REJECTED


def _client(endpoint: str) -> Any:
    with _clients_lock:
        if endpoint not in _clients:
            _clients[endpoint] = boto3.client(
                "apigatewaymanagementapi", endpoint_url=endpoint, config=_CONFIG
            )
        return _clients[endpoint]


def _pool() -> ThreadPoolExecutor:
    global _executor
    with _clients_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=POOL_SIZE, thread_name_prefix="fanout")
        return _executor
