"""Tell people about what happened: every fan-out a route or a session change starts goes here.

Logic decides *what* to tell and *whom*; the notifier decides how (a job for the fan-out function)
and enforces the big-room rule: events about people (joins, leaves, presence, typing, read
receipts) cost members² posts as a room fills, so rooms above `presence_max_members` do not get
them (their `listRooms` items carry `memberCount` and `onlineCount` instead).
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


@dataclass(frozen=True)
class Notifier:
    function_name: str
    presence_max_members: int

    @classmethod
    def from_settings(cls, settings: ChatSettings) -> Notifier:
        if settings.fanout_function_name is None:
            raise RuntimeError("FANOUT_FUNCTION_NAME is not set: the stack sets it on every route function")
        return cls(settings.fanout_function_name, settings.presence_max_members)

    def room(
        self,
        room_id: str,
        frame: dict[str, Any],
        *,
        except_connection: str | None = None,
        except_user: str | None = None,
        extra: dict[str, str] | None = None,
    ) -> None:
        """Post `frame` to every live connection of the room's members (minus the exceptions)."""
        self._start(
            FanoutJob(
                frame=frame,
                room_id=room_id,
                except_connection=except_connection,
                except_user=except_user,
                extra=extra or {},
            )
        )

    def about_people(self, room: Room, frame: dict[str, Any], **audience: Any) -> None:
        """An event about a member: only rooms of at most `presence_max_members` members hear it."""
        if room.member_count <= self.presence_max_members:
            self.room(room.room_id, frame, **audience)

    def connections(self, targets: dict[str, str], frame: dict[str, Any]) -> None:
        """Post `frame` to exactly these connections (connection id -> user id)."""
        if targets:
            self._start(FanoutJob(frame=frame, targets=targets))

    def _start(self, job: FanoutJob) -> None:
        """Queue the job; a failure is logged and counted, never raised (what it announces is done)."""
        try:
            dispatch.invoke(self.function_name, job)
        except Exception:
            logger.exception("could not start a fan-out", extra={"frame_type": job.frame.get("type")})
            count(metric_names.FANOUT_DISPATCH_FAILURES)
