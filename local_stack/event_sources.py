"""Lambda's event source mappings for SQS queues of the template, as Lambda documents them.

https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html and .../services-sqs-errorhandling.html:
pollers long-poll the queue, hand the function up to ``BatchSize`` records in one invocation and
delete the batch when the function returns. With ``ReportBatchItemFailures`` the function returns
``{"batchItemFailures": [{"itemIdentifier": <messageId>}]}`` and only the records it names stay in
the queue; an answer naming a record that is not in the batch fails the whole batch. A function
error (raised, timed out, crashed) deletes nothing: every record of the batch becomes visible again
after the queue's visibility timeout and counts a receive towards the queue's redrive policy.

For a FIFO queue SQS itself keeps the order: it hands out a message group's records in order and
none of a group while a record of it is in flight, so pollers running side by side never overtake a
group (moto implements that group lock). Lambda scales a FIFO mapping to the number of active
message groups, up to ``ScalingConfig.MaximumConcurrency`` when set; locally the pollers are bounded
by the function's workers too (half of them, so that a job which invokes its own function and waits,
as the fan-out's big rooms do, always finds a free worker).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from local_stack.assembly import Assembly, AssemblyError
from local_stack.intrinsics import Resolver
from local_stack.workers import FunctionPool, InvocationError

log = logging.getLogger("local_stack.event_sources")

WAIT_SECONDS = 1  # each poll's long poll: a stop is noticed within a second
_MAX_BATCH = 10  # SQS's ReceiveMessage returns at most ten messages


@dataclass(frozen=True)
class QueueSource:
    """One ``AWS::Lambda::EventSourceMapping`` of an SQS queue."""

    function: str  # logical id
    queue_url: str
    queue_arn: str
    batch_size: int
    reports_item_failures: bool
    maximum_concurrency: int | None


def build(
    assembly: Assembly, resolver: Resolver, functions: dict[str, str], queue_urls: dict[str, str]
) -> list[QueueSource]:
    """The template's enabled SQS mappings; ``functions`` maps names and ARNs to logical ids."""
    sources = []
    for logical_id, resource in assembly.of_type("AWS::Lambda::EventSourceMapping").items():
        props = resolver.resolve(resource["Properties"])
        arn = props.get("EventSourceArn", "")
        if str(props.get("Enabled", True)).lower() == "false":
            continue
        if arn not in queue_urls:
            raise AssemblyError(f"{logical_id}: only SQS queues of the template are polled locally ({arn})")
        function = functions.get(props["FunctionName"])
        if function is None:
            raise AssemblyError(f"{logical_id}: FunctionName {props['FunctionName']!r} is no function here")
        if props.get("MaximumBatchingWindowInSeconds"):
            raise AssemblyError(f"{logical_id}: a batching window is not emulated")
        sources.append(
            QueueSource(
                function=function,
                queue_url=queue_urls[arn],
                queue_arn=arn,
                batch_size=int(props.get("BatchSize", 10)),
                reports_item_failures="ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
                maximum_concurrency=props.get("ScalingConfig", {}).get("MaximumConcurrency"),
            )
        )
    return sources


def sqs_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """One record of Lambda's SQS event, from a ReceiveMessage result (attributes 'All')."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {
            name: _message_attribute(value) for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfMessageAttributes": message.get("MD5OfMessageAttributes"),
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": queue_arn.split(":")[3],
    }


def _message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    """A message attribute as Lambda's SQS event has it: camel-case keys, binary values in base64."""

    def encoded(data: bytes) -> str:
        return base64.b64encode(data).decode()

    attribute: dict[str, Any] = {}
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = encoded(value["BinaryValue"])
    attribute["stringListValues"] = list(value.get("StringListValues", []))
    attribute["binaryListValues"] = [encoded(item) for item in value.get("BinaryListValues", [])]
    attribute["dataType"] = value["DataType"]
    return attribute


def kept_records(received: list[dict[str, Any]], result: Any) -> set[str]:
    """The message ids the function's answer keeps in the queue (all of them if it is invalid)."""
    ids = {message["MessageId"] for message in received}
    failures = (result or {}).get("batchItemFailures", []) if isinstance(result, dict) else None
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return ids
    named = {failure.get("itemIdentifier") for failure in failures if isinstance(failure, dict)}
    if len(named) != len(failures) or not named <= ids:
        return ids  # Lambda: an empty, unknown or malformed identifier fails the whole batch
    return {name for name in named if isinstance(name, str)}


class QueuePollers:
    """Polls every mapping's queue and invokes its function (started in the running event loop)."""

    def __init__(self, sources: list[QueueSource], pools: dict[str, FunctionPool], sqs: Any) -> None:
        self._sqs = sqs
        self._pools = pools
        self._stopping = asyncio.Event()
        self._tasks = [
            asyncio.create_task(self._poll(source))
            for source in sources
            for _ in range(self.concurrency(source, pools[source.function].max_workers))
        ]

    @staticmethod
    def concurrency(source: QueueSource, workers: int) -> int:
        local = max(1, workers // 2)
        return min(local, source.maximum_concurrency or local)

    async def _poll(self, source: QueueSource) -> None:
        pool = self._pools[source.function]
        while not self._stopping.is_set():
            try:
                received = await asyncio.to_thread(
                    self._sqs.receive_message,
                    QueueUrl=source.queue_url,
                    MaxNumberOfMessages=min(source.batch_size, _MAX_BATCH),
                    WaitTimeSeconds=WAIT_SECONDS,
                    AttributeNames=["All"],
                    MessageAttributeNames=["All"],
                )
                messages = received.get("Messages", [])
                if messages:
                    await self._invoke(source, pool, messages)
            except Exception:  # moto going away at the stop, or a bug of the emulator's
                if self._stopping.is_set():
                    return
                log.exception("%s: polling %s failed", pool.spec.name, source.queue_url)
                await asyncio.sleep(WAIT_SECONDS)

    async def _invoke(self, source: QueueSource, pool: FunctionPool, messages: list[dict[str, Any]]) -> None:
        event = {"Records": [sqs_record(message, source.queue_arn) for message in messages]}
        request_id = str(uuid.uuid4())
        try:
            result = await pool.invoke(event, request_id, urgent=False)
        except InvocationError as error:
            log.warning(
                "%s: SQS batch %s of %d record(s) failed (%s: %s): it comes back after the "
                "visibility timeout",
                pool.spec.name, request_id, len(messages), error.payload()["errorType"], error.message,
            )  # fmt: skip
            return
        kept = kept_records(messages, result) if source.reports_item_failures else set()
        done = [message for message in messages if message["MessageId"] not in kept]
        if kept:
            log.info("%s: SQS batch %s: %d record(s) kept for a retry", pool.spec.name, request_id, len(kept))
        if done:
            await asyncio.to_thread(
                self._sqs.delete_message_batch,
                QueueUrl=source.queue_url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                    for index, message in enumerate(done)
                ],
            )

    async def stop(self) -> None:
        """Stop polling; a batch being run finishes (its function's timeout bounds it)."""
        self._stopping.set()
        await asyncio.gather(*self._tasks, return_exceptions=True)
