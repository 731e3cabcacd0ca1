"""Hand a fan-out to the fan-out function by asynchronous invocation: the only Lambda API code.

A route stores what it must, invokes the fan-out function with `InvocationType=Event` (Lambda
queues the event and answers 202 at once) and replies: the caller's reply never waits for the posts.
Lambda retries a failed invocation twice and then hands it to the function's on-failure queue
(docs/ARCHITECTURE.md).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(connect_timeout=1, read_timeout=3, retries={"mode": "standard", "max_attempts": 3})
_client: Any = None
_client_lock = threading.Lock()


@dataclass(frozen=True)
class FanoutJob:
    """What the fan-out function is asked to do: post `frame` to a room's members, or to `targets`.

    A room job reads the room's member items and splits them into batches; a batch job (`targets`
    set) posts to exactly those connections (connection id -> user id).
    """

    frame: dict[str, Any]
    room_id: str | None = None
    except_connection: str | None = None
    except_user: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
    targets: dict[str, str] | None = None

    def payload(self) -> bytes:
        body: dict[str, Any] = {"frame": self.frame}
        for key, value in (
            ("roomId", self.room_id),
            ("exceptConnection", self.except_connection),
            ("exceptUser", self.except_user),
            ("targets", self.targets),
        ):
            if value is not None:
                body[key] = value
        if self.extra:
            body["extra"] = self.extra
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    @classmethod
    def from_event(cls, event: dict[str, Any]) -> FanoutJob:
        return cls(
            frame=dict(event["frame"]),
            room_id=event.get("roomId"),
            except_connection=event.get("exceptConnection"),
            except_user=event.get("exceptUser"),
            extra=dict(event.get("extra") or {}),
            targets=dict(event["targets"]) if event.get("targets") is not None else None,
        )


def invoke(function_name: str, job: FanoutJob) -> None:
    """Queue `job` for the fan-out function (one Lambda API request)."""
    _lambda().invoke(FunctionName=function_name, InvocationType="Event", Payload=job.payload())


def _lambda() -> Any:
    global _client
    with _client_lock:
        if _client is None:
            _client = boto3.client("lambda", config=_CONFIG)
        return _client
