"""Hand a fan-out to the fan-out function: the only Lambda API and SQS code.

A room's ordered jobs (messages, read receipts, joins and leaves) go to the FIFO queue with the room
as their message group: Lambda's event source mapping hands each group to the fan-out function one
batch at a time, in order. Jobs whose order does not matter (presence, typing) are invoked with
`InvocationType=Event` (Lambda queues the event and answers 202 at once). Either way one request,
and the caller's reply never waits for the posts. A room job's batches are invoked and waited for
(`RequestResponse`), so the group's next job starts after every batch of this one has posted
(docs/ARCHITECTURE.md, "Order").
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(connect_timeout=1, read_timeout=3, retries={"mode": "standard", "max_attempts": 3})
# A batch's invocation is answered when the batch has posted: up to the function's timeout (60 s).
# One retry only (of a throttle or a lost answer): a second run re-posts, which clients de-duplicate.
# Batch invocations waited for at once, one pooled HTTP connection each: 32 batches of 500 are
# 16,000 connections posting in parallel, above a 10,000-member room with one connection each.
WAITS_IN_FLIGHT = 32
_WAIT_CONFIG = Config(
    connect_timeout=1,
    read_timeout=65,
    retries={"mode": "standard", "max_attempts": 2},
    max_pool_connections=WAITS_IN_FLIGHT,
)
_clients: dict[tuple[str, Config], Any] = {}
_client_lock = threading.Lock()


class BatchFailed(Exception):
    """A batch invocation answered with a function error: its room job must be retried."""


@dataclass(frozen=True)
class FanoutJob:
    """What the fan-out function is asked to do: post `frame` to a room's members, or to `targets`.

    A room job reads the room's member items (or, for a message to a room of more than
    `presence_max_members` members by `member_count`, its online index) and splits them into batches;
    a batch job (`targets` set) posts to exactly those connections (connection id -> user id).
    """

    frame: dict[str, Any]
    room_id: str | None = None
    except_connection: str | None = None
    except_user: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
    targets: dict[str, str] | None = None
    member_count: int | None = None  # the room's, when the job was queued (a message's)

    def payload(self) -> bytes:
        body: dict[str, Any] = {"frame": self.frame}
        for key, value in (
            ("roomId", self.room_id),
            ("exceptConnection", self.except_connection),
            ("exceptUser", self.except_user),
            ("targets", self.targets),
            ("memberCount", self.member_count),
        ):
            if value is not None:
                body[key] = value
        if self.extra:
            body["extra"] = self.extra
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def deduplication_id(self) -> str:
        """The job's identity for the FIFO queue, which drops a job whose id it took in the last five
        minutes: a message's retry queues nothing twice. Any other job is a new event each time (the
        same `memberJoined` twice in five minutes is two joins), so its id is new each time."""
        if self.frame.get("type") == "message" and self.room_id is not None:
            return f"message-{self.frame['messageId']}"
        return uuid.uuid4().hex

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> FanoutJob:
        return cls(
            frame=dict(event["frame"]),
            room_id=event.get("roomId"),
            except_connection=event.get("exceptConnection"),
            except_user=event.get("exceptUser"),
            extra=dict(event.get("extra") or {}),
            targets=dict(event["targets"]) if event.get("targets") is not None else None,
            member_count=int(event["memberCount"]) if event.get("memberCount") is not None else None,
        )


def invoke(function_name: str, job: FanoutJob) -> None:
    """Queue `job` for the fan-out function (one Lambda API request)."""
    _client("lambda").invoke(FunctionName=function_name, InvocationType="Event", Payload=job.payload())


def invoke_and_wait(function_name: str, job: FanoutJob) -> None:
    """Run `job` (a batch) in another invocation and wait for it; raises BatchFailed if it failed."""
    answer = _client("lambda", _WAIT_CONFIG).invoke(
        FunctionName=function_name, InvocationType="RequestResponse", Payload=job.payload()
    )
    if answer.get("FunctionError"):
        raise BatchFailed(answer["Payload"].read().decode("utf-8", "replace")[:500])


def enqueue(queue_url: str, job: FanoutJob) -> None:
    """Queue a room job in the FIFO queue, in its room's message group (one SQS request)."""
    assert job.room_id is not None, "only room jobs are ordered"
    _client("sqs").send_message(
        QueueUrl=queue_url,
        MessageBody=job.payload().decode("utf-8"),
        MessageGroupId=job.room_id,
        MessageDeduplicationId=job.deduplication_id(),
    )


def retry_later(queue_url: str, receipt_handles: list[str], delay_seconds: int) -> None:
    """Make failed records visible again after `delay_seconds` instead of the queue's visibility
    timeout (six times the function's timeout): their room waits seconds, not minutes."""
    for start in range(0, len(receipt_handles), 10):
        _client("sqs").change_message_visibility_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(index), "ReceiptHandle": handle, "VisibilityTimeout": delay_seconds}
                for index, handle in enumerate(receipt_handles[start : start + 10])
            ],
        )


def _client(service: str, config: Config = _CONFIG) -> Any:
    """One client per service and configuration per container (boto3 clients are safe to share by
    threads)."""
    with _client_lock:
        if (service, config) not in _clients:
            _clients[service, config] = boto3.client(service, config=config)
        return _clients[service, config]
