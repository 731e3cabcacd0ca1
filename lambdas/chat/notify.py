"""Tell people about what happened: every fan-out a route or a session change starts goes here.

Logic decides *what* to tell and *whom*; the notifier decides how (a job for the fan-out function:
in the room's FIFO message group when its order matters, by asynchronous invocation when it does
not: presence and typing, which are states a newer frame replaces) and enforces the big-room rule:
events about people (joins, leaves, presence, typing, read receipts) cost members² posts as a room
fills, so rooms above `presence_max_members` do not get them (their `listRooms` items carry
`memberCount` and `onlineCount` instead).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import metric_names
from chat import dispatch
from chat.config import ChatSettings
from chat.dispatch import FanoutJob
from chat.models.domain import Room
from chat.observability import count, logger


class NotQueued(Exception):
    """A room's ordered job could not be queued (SQS refused it after boto3's retries)."""


@dataclass(frozen=True)
class Notifier:
    function_name: str
    presence_max_members: int
    queue_url: str | None = None  # the FIFO queue of ordered room jobs (BroadcastFunction's)

    @classmethod
    def from_settings(cls, settings: ChatSettings) -> Notifier:
        if settings.fanout_function_name is None:
            raise RuntimeError("FANOUT_FUNCTION_NAME is not set: the stack sets it on every route function")
        return cls(settings.fanout_function_name, settings.presence_max_members, settings.fanout_queue_url)

    def room(
        self,
        room_id: str,
        frame: dict[str, Any],
        *,
        ordered: bool = True,
        must_queue: bool = False,
        except_connection: str | None = None,
        except_user: str | None = None,
        extra: dict[str, str] | None = None,
        member_count: int | None = None,
    ) -> None:
        """Post `frame` to every live connection of the room's members (minus the exceptions).

        `ordered` jobs reach every connection in the order they were queued (the room's message
        group). A failure to queue is logged and counted; with `must_queue` it raises NotQueued too,
        for a caller whose client can retry (sendMessage with its clientMessageId). `member_count`
        (the room's, if the caller knows it) lets a big room's job read only the online members.
        """
        job = FanoutJob(
            frame=frame,
            room_id=room_id,
            except_connection=except_connection,
            except_user=except_user,
            extra=extra or {},
            member_count=member_count,
        )
        if not ordered:
            self._start(job)
            return
        if self.queue_url is None:
            raise RuntimeError("FANOUT_QUEUE_URL is not set: the stack sets it where rooms hear in order")
        try:
            dispatch.enqueue(self.queue_url, job)
        except Exception as exc:
            self._not_started(job)
            if must_queue:
                raise NotQueued() from exc

    def about_people(
        self, room: Room, frame: dict[str, Any], *, ordered: bool = True, **audience: Any
    ) -> None:
        """An event about a member: only rooms of at most `presence_max_members` members hear it."""
        if room.member_count <= self.presence_max_members:
            self.room(room.room_id, frame, ordered=ordered, **audience)

    def connections(self, targets: dict[str, str], frame: dict[str, Any]) -> None:
        """Post `frame` to exactly these connections (connection id -> user id), in no order."""
        if targets:
            self._start(FanoutJob(frame=frame, targets=targets))

    def batch(self, targets: dict[str, str], frame: dict[str, Any]) -> None:
        """Post one batch of a room job in another invocation and wait; raises if the batch failed."""
        dispatch.invoke_and_wait(self.function_name, FanoutJob(frame=frame, targets=targets))

    def _start(self, job: FanoutJob) -> None:
        """Queue the job; a failure is logged and counted, never raised (what it announces is done)."""
        try:
            dispatch.invoke(self.function_name, job)
        except Exception:
            self._not_started(job)

    @staticmethod
    def _not_started(job: FanoutJob) -> None:
        logger.exception("could not start a fan-out", extra={"frame_type": job.frame.get("type")})
        count(metric_names.FANOUT_DISPATCH_FAILURES)
