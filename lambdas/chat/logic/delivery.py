"""Fan a frame out to a room's audience, then forget the connections API Gateway says are gone."""

from __future__ import annotations

import time
from typing import Any

import metric_names
from chat import fanout
from chat.logic import sessions
from chat.observability import count, count_by, logger, milliseconds


def deliver(endpoint: str, audience: dict[str, str], frame: dict[str, Any]) -> None:
    """Post `frame` to every connection of `audience` (connection id -> user id).

    An empty audience (a sender alone in the room) is no fan-out: nothing is measured or logged.
    """
    if not audience:
        return
    started = time.perf_counter()
    outcome = fanout.post(endpoint, audience, frame)
    duration_ms = (time.perf_counter() - started) * 1000
    milliseconds(metric_names.FANOUT_DURATION, duration_ms)
    count(metric_names.POSTS_DELIVERED, len(outcome.delivered))
    count(metric_names.POSTS_GONE, len(outcome.gone))
    logger.info(
        "fan-out",
        extra={
            "room_id": _room_of(frame),
            "frame_type": frame.get("type"),
            "audience": len(audience),
            "delivered": len(outcome.delivered),
            "gone": len(outcome.gone),
            "failed": len(outcome.failed),
            "duration_ms": round(duration_ms, 1),
        },
    )
    for connection_id in outcome.gone:
        try:
            sessions.drop(connection_id, audience[connection_id])
        except Exception:
            logger.exception(
                "could not remove a gone connection", extra={"gone_connection_id": connection_id}
            )
        else:
            count(metric_names.STALE_CONNECTIONS_REMOVED)
    for connection_id, kind in outcome.failed.items():
        logger.warning("post failed", extra={"target_connection_id": connection_id, "kind": kind})
        count_by(metric_names.POST_FAILURES, kind)


def _room_of(frame: dict[str, Any]) -> str | None:
    """Every frame a room fans out names it: `roomId`, or `room.roomId` for the `room` frame."""
    return frame.get("roomId") or (frame.get("room") or {}).get("roomId")
