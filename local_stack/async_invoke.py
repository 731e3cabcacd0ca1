"""Lambda's asynchronous invocation: an event queue per function, retries, maximum age, destinations.

As Lambda documents it (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
and .../invocation-async-retain-records.html): an ``Event`` invocation is queued and answered at once;
the queue feeds the function as many events at a time as it has execution environments (here: the
pool's workers); a function error (raised, timed out, crashed, failed to initialise) is retried up to
``MaximumRetryAttempts`` times (default 2), one minute before the second attempt and two minutes
before the third; an event that has waited longer than ``MaximumEventAgeInSeconds`` (default six
hours) is discarded. After the last failure, or when discarded, an invocation record goes to the
``OnFailure`` destination, and the event itself to the function's dead-letter queue; after a success,
a record goes to ``OnSuccess``. Destinations may be SQS queues of the template (in moto) or its
functions (invoked asynchronously with the record); dead-letter queues, SQS queues of the template.

Locally the waits are scaled (``AsyncTiming``) so that a retry takes seconds, not minutes.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from local_stack.model import AsyncInvokeSpec
from local_stack.workers import FunctionPool, InvocationError

RETRY_DELAYS_SECONDS = (60.0, 120.0)  # Lambda's: before the second attempt, before the third
SHUTDOWN_GRACE_SECONDS = 5.0

log = logging.getLogger("local_stack.lambda")

SendToQueue = Callable[[str, str, dict[str, Any]], Awaitable[None]]  # (URL, body, message attributes)
_DEAD_LETTER_MESSAGE_LIMIT = 1024  # Lambda puts the first 1 KB of the error message in ErrorMessage


@dataclass(frozen=True)
class AsyncTiming:
    """How the local clock of the event queue relates to Lambda's.

    ``retry_scale`` multiplies Lambda's retry delays (default 1/60: a minute becomes a second);
    ``age_scale`` multiplies each function's ``MaximumEventAgeInSeconds`` (default 1: unchanged).
    """

    retry_scale: float = 1 / 60
    age_scale: float = 1.0

    def retry_delay(self, failed_attempts: int) -> float:
        return RETRY_DELAYS_SECONDS[min(failed_attempts, len(RETRY_DELAYS_SECONDS)) - 1] * self.retry_scale


@dataclass
class AsyncEvent:
    request_id: str
    payload: Any
    queued_at: float
    attempts: int = 0
    last_error: InvocationError | None = None


class AsyncInvoker:
    """The asynchronous event queues of a stack's functions (keyed by logical id)."""

    def __init__(
        self,
        pools: dict[str, FunctionPool],
        configs: dict[str, AsyncInvokeSpec],
        queue_urls: dict[str, str],
        send_to_queue: SendToQueue,
        timing: AsyncTiming = AsyncTiming(),
    ) -> None:
        self._pools = pools
        self._configs = configs
        self._queue_urls = queue_urls
        self._send_to_queue = send_to_queue
        self._timing = timing
        self._by_arn = {pool.spec.arn: key for key, pool in pools.items()}
        self._queues: dict[str, asyncio.Queue[AsyncEvent | None]] = {}
        self._consumers: list[asyncio.Task[None]] = []
        self._retries: set[asyncio.Task[None]] = set()
        self._closing = False
        for function, config in configs.items():
            for destination in (config.on_success, config.on_failure):
                if destination is not None and not self._deliverable(destination):
                    log.warning(
                        "%s: destination %s is neither a queue nor a function of the template: "
                        "its records are not delivered locally",
                        self._name(function),
                        destination,
                    )
            if config.dead_letter is not None and config.dead_letter not in queue_urls:
                log.warning(
                    "%s: dead-letter target %s is no queue of the template: not delivered locally",
                    self._name(function),
                    config.dead_letter,
                )

    def _deliverable(self, destination: str) -> bool:
        return destination in self._queue_urls or destination.removesuffix(":$LATEST") in self._by_arn

    def submit(self, function: str, payload: Any) -> str:
        """Queue one event for ``function``; return its request id (Lambda's ``x-amzn-RequestId``)."""
        if self._closing:
            raise RuntimeError("the local stack is stopping")
        event = AsyncEvent(str(uuid.uuid4()), payload, time.monotonic())
        self._queue(function).put_nowait(event)
        return event.request_id

    def _queue(self, function: str) -> asyncio.Queue[AsyncEvent | None]:
        if function not in self._queues:
            queue: asyncio.Queue[AsyncEvent | None] = asyncio.Queue()
            self._queues[function] = queue
            for _ in range(self._pools[function].max_workers):
                self._consumers.append(asyncio.create_task(self._consume(function, queue)))
        return self._queues[function]

    async def _consume(self, function: str, queue: asyncio.Queue[AsyncEvent | None]) -> None:
        while (event := await queue.get()) is not None:
            try:
                await self._attempt(function, event)
            except Exception:  # a bug of the emulator's must not stop the queue
                log.exception(
                    "%s: async event %s: the emulator failed", self._name(function), event.request_id
                )

    async def _attempt(self, function: str, event: AsyncEvent) -> None:
        config = self._configs[function]
        name = self._name(function)
        waited = time.monotonic() - event.queued_at
        max_age = config.max_event_age_seconds * self._timing.age_scale
        if waited > max_age:
            log.warning(
                "%s: async event %s discarded after %d attempt(s): %.2f s old, over "
                "MaximumEventAgeInSeconds %d (%.2f s locally)",
                name, event.request_id, event.attempts, waited, config.max_event_age_seconds, max_age,
            )  # fmt: skip
            await self._record(function, event, "EventAgeExceeded", config.on_failure)
            await self._dead_letter(function, event, config.dead_letter)
            return
        event.attempts += 1
        try:
            result = await self._pools[function].invoke(event.payload, event.request_id, urgent=False)
        except InvocationError as error:
            event.last_error = error
            self._failed(function, event, config)
            if event.attempts > config.max_retry_attempts:
                await self._record(function, event, "RetriesExhausted", config.on_failure)
                await self._dead_letter(function, event, config.dead_letter)
            return
        log.info(
            "%s: async event %s succeeded (attempt %d, %.0f ms after it was queued)",
            name, event.request_id, event.attempts, (time.monotonic() - event.queued_at) * 1000,
        )  # fmt: skip
        await self._record(function, event, "Success", config.on_success, result)

    def _failed(self, function: str, event: AsyncEvent, config: AsyncInvokeSpec) -> None:
        """Log a failed attempt and schedule the retry, if one is left."""
        error = event.last_error
        assert error is not None
        attempts = f"attempt {event.attempts} of {config.max_retry_attempts + 1}"
        cause = f"{error.payload()['errorType']}: {error.message}"
        name = self._name(function)
        if event.attempts > config.max_retry_attempts:
            log.warning(
                "%s: async event %s failed (%s, %s): no retry left", name, event.request_id, attempts, cause
            )
            return
        if self._closing:
            log.warning(
                "%s: async event %s failed (%s, %s): not retried, stopping",
                name,
                event.request_id,
                attempts,
                cause,
            )
            return
        delay = self._timing.retry_delay(event.attempts)
        log.warning(
            "%s: async event %s failed (%s, %s); retrying in %.2f s",
            name,
            event.request_id,
            attempts,
            cause,
            delay,
        )
        task = asyncio.create_task(self._retry_later(function, event, delay))
        self._retries.add(task)
        task.add_done_callback(self._retries.discard)

    async def _retry_later(self, function: str, event: AsyncEvent, delay: float) -> None:
        await asyncio.sleep(delay)
        self._queues[function].put_nowait(event)

    async def _record(
        self, function: str, event: AsyncEvent, condition: str, destination: str | None, result: Any = None
    ) -> None:
        """Send the invocation record to ``destination`` (when there is one), as Lambda shapes it."""
        if destination is None:
            if condition != "Success" and self._configs[function].dead_letter is None:
                log.warning(
                    "%s: async event %s dropped: no OnFailure destination, no dead-letter queue",
                    self._name(function),
                    event.request_id,
                )
            return
        record = invocation_record(self._pools[function].spec.arn, event, condition, result)
        try:
            if destination in self._queue_urls:
                await self._send_to_queue(self._queue_urls[destination], json.dumps(record), {})
            elif self._deliverable(destination):
                self.submit(self._by_arn[destination.removesuffix(":$LATEST")], record)
            else:
                return  # warned about at start
        except Exception as error:  # moto gone, queue missing, ...: Lambda would retry; say so here
            log.error(
                "%s: async event %s: sending the record to %s failed: %s",
                self._name(function),
                event.request_id,
                destination,
                error,
            )
            return
        log.info(
            "%s: async event %s: %s record sent to %s",
            self._name(function),
            event.request_id,
            condition,
            destination,
        )

    async def _dead_letter(self, function: str, event: AsyncEvent, target: str | None) -> None:
        """Send the event itself to the dead-letter queue, with Lambda's three message attributes."""
        if target is None or target not in self._queue_urls:
            return
        error = event.last_error.message if event.last_error else "Event age exceeded"
        attributes = {
            "RequestID": {"DataType": "String", "StringValue": event.request_id},
            "ErrorCode": {"DataType": "Number", "StringValue": "200"},
            "ErrorMessage": {"DataType": "String", "StringValue": error[:_DEAD_LETTER_MESSAGE_LIMIT]},
        }
        try:
            await self._send_to_queue(self._queue_urls[target], json.dumps(event.payload), attributes)
        except Exception as failure:
            log.error(
                "%s: async event %s: sending it to the dead-letter queue %s failed: %s",
                self._name(function),
                event.request_id,
                target,
                failure,
            )
            return
        log.info(
            "%s: async event %s sent to the dead-letter queue %s",
            self._name(function),
            event.request_id,
            target,
        )

    def _name(self, function: str) -> str:
        return self._pools[function].spec.name

    async def stop(self) -> None:
        """Stop: queued events and pending retries are dropped (and counted), running attempts finish.

        A running attempt gets its function's timeout (plus a grace period) before it is cancelled,
        which kills its worker.
        """
        self._closing = True
        for task in self._retries:
            task.cancel()
        dropped = len(self._retries)
        for function, queue in self._queues.items():
            while not queue.empty():
                dropped += queue.get_nowait() is not None
            for _ in range(self._pools[function].max_workers):
                queue.put_nowait(None)  # each consumer ends after its running attempt
        if dropped:
            log.warning("stopping: %d queued asynchronous event(s) dropped", dropped)
        if self._consumers:
            longest = max(self._pools[key].spec.timeout for key in self._queues) + SHUTDOWN_GRACE_SECONDS
            _, pending = await asyncio.wait(self._consumers, timeout=longest)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await asyncio.gather(*self._retries, return_exceptions=True)


def invocation_record(
    function_arn: str, event: AsyncEvent, condition: str, result: Any = None
) -> dict[str, Any]:
    """The record Lambda sends to a destination: request and response context and payloads."""
    record: dict[str, Any] = {
        "version": "1.0",
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "requestContext": {
            "requestId": event.request_id,
            "functionArn": f"{function_arn}:$LATEST",
            "condition": condition,
            "approximateInvokeCount": event.attempts,
        },
        "requestPayload": event.payload,
    }
    if condition == "Success":
        record["responseContext"] = {"statusCode": 200, "executedVersion": "$LATEST"}
        record["responsePayload"] = result
    elif event.last_error is not None:
        record["responseContext"] = {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        }
        record["responsePayload"] = event.last_error.payload()
    return record
