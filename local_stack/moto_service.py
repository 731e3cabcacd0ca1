"""moto in server mode (real HTTP on 127.0.0.1) for Cognito and DynamoDB.

moto's own ``moto_server`` serves requests on many threads, and its backends are not safe against
concurrent updates (two ``ADD seq :1`` racing can return the same value). DynamoDB makes each item
update atomic, so this launcher serializes requests with one lock to keep that guarantee locally.

Under that lock, SQS long polling (``WaitTimeSeconds``) would stop every other request for as long
as a poll waits, so a long poll waits outside it: it is answered by short polls under the lock, one
each time a send, delete or visibility change is made (or every 100 ms, when in-flight messages may
have become visible), until it finds messages or its time is up, as SQS answers one.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

LOOPBACK = "127.0.0.1"


_SQS = "AmazonSQS."
_SQS_CHANGES = frozenset(
    _SQS + operation
    for operation in (
        "SendMessage",
        "SendMessageBatch",
        "DeleteMessage",
        "DeleteMessageBatch",
        "ChangeMessageVisibility",
        "ChangeMessageVisibilityBatch",
    )
)
_RECHECK_SECONDS = 0.1


def _serialized(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    lock = threading.Lock()
    changed = threading.Condition()
    changes = [0]  # SQS changes so far: a poll that saw none since its short poll may wait

    def call(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with lock:
            return list(app(environ, start_response))

    def long_poll(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        request = json.loads(body or b"{}")
        deadline = time.monotonic() + float(request.pop("WaitTimeSeconds", 0) or 0)
        short = json.dumps(request).encode()
        while True:
            seen = changes[0]
            answer: list[Any] = []
            result = call(
                {**environ, "wsgi.input": io.BytesIO(short), "CONTENT_LENGTH": str(len(short))},
                lambda status, headers, exc_info=None, answer=answer: answer.extend((status, headers)),
            )
            remaining = deadline - time.monotonic()
            if remaining <= 0 or json.loads(b"".join(result) or b"{}").get("Messages"):
                start_response(*answer)
                return result
            with changed:
                if changes[0] == seen:
                    changed.wait(min(remaining, _RECHECK_SECONDS))

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target == _SQS + "ReceiveMessage":
            return long_poll(environ, start_response)
        result = call(environ, start_response)
        if target in _SQS_CHANGES:
            with changed:
                changes[0] += 1
                changed.notify_all()
        return result

    return wsgi


def _partition_queries() -> None:
    """Make moto's base-table Query read one partition instead of sorting the whole table.

    moto 5.2's ``Table.query`` builds its candidates from ``all_items()``, which sorts every item of
    the table on each call: a Query then costs O(table) and the local stack slows down as the table
    grows (30 ms per Query at ~800 items, all of it under the lock above). DynamoDB reads one
    partition; this narrows ``all_items()`` to that partition for the duration of one base-table
    Query, which is what moto then filters it to anyway. Index queries and scans are unchanged.
    """
    from moto.dynamodb.models.table import Table

    original = Table.query

    def query(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        if index_name or hash_key is None or not self.range_key_attr:
            return original(self, hash_key, *args, **kwargs)
        partition = list(self.items.get(hash_key, {}).values())
        self.all_items = lambda: partition  # type: ignore[method-assign]
        try:
            return original(self, hash_key, *args, **kwargs)
        finally:
            del self.all_items

    Table.query = query  # type: ignore[method-assign]


def _fifo_redelivery_in_order() -> None:
    """Hand a FIFO message group's timed-out records back in order, as SQS does.

    moto 5.2's ``receive_message`` releases a record whose visibility timeout ran out from the
    group's in-flight set only when its loop reaches it, and checks the group's lock in between: with
    two or more of a group's records back at once, the last one is delivered first, then the group's
    newer ones, and the first ones later (a failed batch of the fan-out's room, retried, would post
    out of order). Releasing every visible record before the loop makes the group's oldest record
    its first again.
    """
    from moto.sqs.models import SQSBackend

    original = SQSBackend.receive_message

    def receive_message(self: SQSBackend, queue_name: str, *args: Any, **kwargs: Any) -> Any:
        queue = self.get_queue(queue_name)
        for message in [m for m in queue.pending_messages if m.visible]:
            queue.pending_messages.discard(message)
        return original(self, queue_name, *args, **kwargs)

    SQSBackend.receive_message = receive_message  # type: ignore[method-assign]


def _restore(table: Any, hash_value: Any, range_value: Any, item: Any) -> None:
    """Put one item of a moto table back as it was (None: it did not exist)."""
    if not table.range_key_attr:
        if item is None:
            table.items.pop(hash_value, None)
        else:
            table.items[hash_value] = item
    elif item is None:
        table.items.get(hash_value, {}).pop(range_value, None)
    else:
        table.items[hash_value][range_value] = item


def _item_scoped_transactions() -> None:
    """Make moto's TransactWriteItems back up the items it touches instead of whole tables.

    moto 5.2 deep-copies every table a transaction names, so that it can roll back: a transaction
    then costs O(table) (85 ms at 2,000 items, growing). This backs up just the transaction's items
    (what a rollback needs) and has moto's own backup return the live table.
    """
    import copy
    import types

    from moto.dynamodb import models
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    original = models.DynamoDBBackend.transact_write_items

    def deepcopy_except_tables(value: Any, memo: Any = None) -> Any:
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    moto_copy = types.SimpleNamespace(deepcopy=deepcopy_except_tables, copy=copy.copy)

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        backups = []
        for entry in transact_items:
            for kind, op in entry.items():
                table = self.tables.get(op.get("TableName"))
                key = op.get("Item" if kind == "Put" else "Key") or {}
                if table is None or table.hash_key_attr not in key:
                    continue
                hash_value = DynamoType(key[table.hash_key_attr])
                range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr in key else None
                current = table.items.get(hash_value)
                if table.range_key_attr and current is not None:
                    current = current.get(range_value)
                backups.append((table, hash_value, range_value, copy.deepcopy(current)))
        models.copy = moto_copy
        try:
            original(self, transact_items)
        except Exception:
            for table, hash_value, range_value, item in reversed(backups):
                _restore(table, hash_value, range_value, item)
            raise
        finally:
            models.copy = copy

    models.DynamoDBBackend.transact_write_items = transact_write_items


def serve(port: int) -> None:
    """Serve moto on 127.0.0.1:port until terminated."""
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import run_simple

    _partition_queries()
    _item_scoped_transactions()
    _fifo_redelivery_in_order()
    app = _serialized(DomainDispatcherApplication(create_backend_app))
    run_simple(LOOPBACK, port, app, threaded=True, request_handler=MotoRequestHandler)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def wait_for_port(
    port: int, *, timeout: float = 20.0, process: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before listening on {port}")
        try:
            with socket.create_connection((LOOPBACK, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {LOOPBACK}:{port} after {timeout:.0f}s")


class MotoServer:
    """A moto server in a child process; use as a context manager or call start()/stop()."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.endpoint = f"http://{LOOPBACK}:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> MotoServer:
        env = {**os.environ, "MOTO_PORT": str(self.port)}
        self._process = subprocess.Popen(
            [sys.executable, "-m", "local_stack.moto_service", "--port", str(self.port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, process=self._process)
        return self

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def reset(self) -> None:
        """Drop every resource moto holds (moto's own reset API)."""
        import urllib.request

        urllib.request.urlopen(urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST"))

    def __enter__(self) -> MotoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    # Ctrl-C in a terminal reaches the whole process group, but the tables must outlive the routes'
    # $disconnect calls during shutdown: the parent stops this server last (MotoServer.stop).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    serve(args.port)


if __name__ == "__main__":
    main()
