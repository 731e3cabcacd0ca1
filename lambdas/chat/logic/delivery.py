"""Fan a frame out to a room's audience, then forget the connections API Gateway says are gone."""

from __future__ import annotations

from typing import Any

from chat import fanout
from chat.logic import sessions
from chat.observability import count, count_by, logger


def deliver(endpoint: str, audience: dict[str, str], frame: dict[str, Any]) -> None:
    """Post `frame` to every connection of `audience` (connection id -> user id)."""
    outcome = fanout.post(endpoint, audience, frame)
    count("ConnectionsReached", len(outcome.delivered))
    for connection_id in outcome.gone:
        try:
            sessions.drop(connection_id, audience[connection_id])
        except Exception:
            logger.exception(
                "could not remove a gone connection", extra={"gone_connection_id": connection_id}
            )
        else:
            count("StaleConnectionsRemoved")
    for connection_id, kind in outcome.failed.items():
        logger.warning("post failed", extra={"target_connection_id": connection_id, "kind": kind})
        count_by("PostFailures", "Kind", kind)
