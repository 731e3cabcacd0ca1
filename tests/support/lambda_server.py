"""A real HTTP Lambda Invoke API on 127.0.0.1 that runs registered handlers in this process.

The route code invokes the fan-out function with boto3 (`InvocationType=Event`), exactly as on
AWS; this server answers as Lambda does (202 at once for Event, 200 with the result for
RequestResponse, 404 `ResourceNotFoundException` for an unknown function) and runs the queued
events one at a time on a worker thread, retrying a failed event twice as Lambda's asynchronous
invocation does. Tests call `drain()` to wait until every queued event (and every event those
queued) has run, so what a fan-out posted can be asserted right after the route replied.

    with LambdaServer({"fanout": handler}) as server:
        os.environ["AWS_ENDPOINT_URL_LAMBDA"] = server.endpoint
        ...
        server.drain()
"""

from __future__ import annotations

import json
import queue
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

LOOPBACK = "127.0.0.1"
RETRIES = 2  # Lambda's default for asynchronous invocation
Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class Context:
    """The attributes Powertools reads from Lambda's context object."""

    function_name: str
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:ap-northeast-1:123456789012:function:test"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))


class LambdaServer:
    def __init__(self, handlers: dict[str, Handler]) -> None:
        self.handlers = handlers
        self.invocations: list[tuple[str, dict[str, Any]]] = []
        self.failures: list[tuple[str, dict[str, Any], str]] = []  # after the last retry
        self._queue: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
        self._httpd = ThreadingHTTPServer((LOOPBACK, 0), _handler_for(self))
        self._threads: list[threading.Thread] = []
        self._running = threading.Event()
        self._running.set()

    @property
    def endpoint(self) -> str:
        return f"http://{LOOPBACK}:{self._httpd.server_address[1]}"

    def __enter__(self) -> LambdaServer:
        for target, name in ((self._httpd.serve_forever, "lambda-api"), (self._work, "lambda-worker")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._queue.put(("", {}))  # wakes the worker to stop

    @contextmanager
    def held(self) -> Iterator[None]:
        """Queued events wait (as they may on Lambda) until the block ends (do not drain inside it)."""
        self._running.clear()
        try:
            yield
        finally:
            self._running.set()

    def drain(self) -> None:
        """Wait until every queued event has run (events queued meanwhile included)."""
        self._queue.join()

    def queue_event(self, name: str, event: dict[str, Any]) -> None:
        self.invocations.append((name, event))
        self._queue.put((name, event))

    def run(self, name: str, event: dict[str, Any], request_id: str | None = None) -> Any:
        context = Context(function_name=name)
        if request_id is not None:
            context.aws_request_id = request_id
        return self.handlers[name](event, context)

    def _work(self) -> None:
        while True:
            name, event = self._queue.get()
            self._running.wait()
            if not name:
                self._queue.task_done()
                return
            error = ""
            request_id = str(uuid.uuid4())  # as on Lambda, an event's retries keep its request id
            for _ in range(1 + RETRIES):
                try:
                    self.run(name, event, request_id)
                except Exception as exc:  # a function error: Lambda retries the event
                    error = f"{type(exc).__name__}: {exc}"
                else:
                    error = ""
                    break
            if error:
                self.failures.append((name, event, error))
            self._queue.task_done()


def _handler_for(server: LambdaServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            parts = self.path.split("/")  # /2015-03-31/functions/<name>/invocations
            name = parts[3].split(":")[-1] if len(parts) == 5 and parts[4] == "invocations" else ""
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if name not in server.handlers:
                message = {"Type": "User", "message": f"Function not found: {name}"}
                self._reply(404, json.dumps(message).encode(), "ResourceNotFoundException")
                return
            event = json.loads(body or b"{}")
            if self.headers.get("X-Amz-Invocation-Type") == "Event":
                server.queue_event(name, event)
                self._reply(202, b"")
                return
            self._reply(200, json.dumps(server.run(name, event)).encode())

        def _reply(self, status: int, body: bytes, error_type: str = "") -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            if error_type:
                self.send_header("X-Amzn-ErrorType", error_type)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read the records
            pass

    return Handler
