"""A real HTTP Lambda Invoke API on 127.0.0.1 that runs registered handlers in this process.

The route code invokes the fan-out function with boto3 (`InvocationType=Event`), exactly as on
AWS; this server answers as Lambda does (202 at once for Event, 200 with the result for
RequestResponse, 404 `ResourceNotFoundException` for an unknown function) and runs the queued
events one at a time on a worker thread, retrying a failed event twice as Lambda's asynchronous
invocation does. A handler that raises in a RequestResponse invocation is answered 200 with
`X-Amz-Function-Error: Unhandled`, as Lambda does.

`subscribe(queue_url, name)` is an SQS event source mapping with ReportBatchItemFailures: a thread
receives up to ten records at a time from the (FIFO) queue in moto, calls the handler with Lambda's
SQS event, and deletes the records the handler did not report as failed. moto keeps a message group
blocked while its records are in flight, honours visibility timeouts and redrives to the dead-letter
queue after `maxReceiveCount` receives, so the group order, the retries and the redrive are SQS's.

Tests call `drain()` to wait until every queued event and every queued record (and everything those
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
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from local_stack.event_sources import kept_records, sqs_record

LOOPBACK = "127.0.0.1"
RETRIES = 2  # Lambda's default for asynchronous invocation
BATCH_SIZE = 10  # the event source mapping's (at most 10 for a FIFO queue)
DRAIN_RECHECK_SECONDS = 0.05  # drain() looks at the queue again at least this often
Handler = Callable[[dict[str, Any], Any], Any]
_QUEUE_COUNTS = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
)


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
        self._stopping = threading.Event()
        self._sources: list[tuple[Any, str]] = []  # (SQS client, queue URL)
        # Queue batches run so far: drain() waits for the next one instead of polling SQS's counts.
        self._batches = 0
        self._batches_done = threading.Condition()

    @property
    def endpoint(self) -> str:
        return f"http://{LOOPBACK}:{self._httpd.server_address[1]}"

    def __enter__(self) -> LambdaServer:
        for target, name in ((self._httpd.serve_forever, "lambda-api"), (self._work, "lambda-worker")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def subscribe(self, sqs: Any, queue_url: str, name: str) -> None:
        """Feed `name` the records of the queue (an event source mapping), from now on."""
        self._sources.append((sqs, queue_url))
        thread = threading.Thread(
            target=self._poll, args=(sqs, queue_url, name), name="sqs-poller", daemon=True
        )
        thread.start()
        self._threads.append(thread)

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
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
        """Wait until every queued event and record has run (those queued meanwhile included)."""
        while True:
            self._queue.join()
            with self._batches_done:
                done = self._batches
            if all(self._empty(sqs, url) for sqs, url in self._sources) and not self._queue.unfinished_tasks:
                return
            with self._batches_done:  # woken by the poller's next batch (records may also be delayed)
                if self._batches == done:
                    self._batches_done.wait(DRAIN_RECHECK_SECONDS)

    @staticmethod
    def _empty(sqs: Any, queue_url: str) -> bool:
        counts = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=list(_QUEUE_COUNTS))
        return all(int(counts["Attributes"][key]) == 0 for key in _QUEUE_COUNTS)

    def _poll(self, sqs: Any, queue_url: str, name: str) -> None:
        arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        while not self._stopping.is_set():
            try:
                received = sqs.receive_message(
                    QueueUrl=queue_url,
                    MaxNumberOfMessages=BATCH_SIZE,
                    WaitTimeSeconds=1,
                    AttributeNames=["All"],
                    MessageAttributeNames=["All"],
                ).get("Messages", [])
            except Exception:  # moto stopping at the session's end
                if self._stopping.is_set():
                    return
                raise
            if not received:
                continue
            self._running.wait()
            try:
                self._run_batch(sqs, queue_url, arn, name, received)
            finally:
                with self._batches_done:
                    self._batches += 1
                    self._batches_done.notify_all()

    def _run_batch(
        self, sqs: Any, queue_url: str, arn: str, name: str, received: list[dict[str, Any]]
    ) -> None:
        records = [sqs_record(message, arn) for message in received]
        self.invocations.append((name, {"Records": records}))
        try:
            response = self.run(name, {"Records": records})
        except Exception:  # a function error: every record comes back after its visibility timeout
            return
        kept = kept_records(received, response)
        done = [message for message in received if message["MessageId"] not in kept]
        if done:
            sqs.delete_message_batch(
                QueueUrl=queue_url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                    for index, message in enumerate(done)
                ],
            )

    def jobs(self, since: int = 0) -> list[dict[str, Any]]:
        """The events of the invocations from number `since` on, a queue batch's records each as one."""
        return [
            json.loads(record["body"]) if "Records" in event else event
            for _, event in self.invocations[since:]
            for record in event.get("Records", [event])
        ]

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
            server.invocations.append((name, event))
            try:
                result = server.run(name, event)
            except Exception as exc:  # a function error: Lambda answers 200 and says so in a header
                error = {
                    "errorMessage": str(exc),
                    "errorType": type(exc).__name__,
                    "stackTrace": traceback.format_exception(exc),
                }
                self._reply(200, json.dumps(error).encode(), function_error="Unhandled")
                return
            self._reply(200, json.dumps(result).encode())

        def _reply(self, status: int, body: bytes, error_type: str = "", function_error: str = "") -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            if error_type:
                self.send_header("X-Amzn-ErrorType", error_type)
            if function_error:
                self.send_header("X-Amz-Function-Error", function_error)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read the records
            pass

    return Handler
