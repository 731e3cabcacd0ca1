"""Every metric the functions publish (EMF), named once for the code, the dashboard and the alarms.

The functions emit these (authorizer/telemetry.py, lambdas/chat/observability.py); stacks/monitoring.py
draws and alarms on them. Each is published in the namespace POWERTOOLS_METRICS_NAMESPACE with the
dimension `service`, and, when it has one, once per value of its `dimension`. This package is copied
into every function's bundle (a code root of its own) and imports nothing but the standard library,
so the authorizer's cold path stays as small as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

COUNT = "Count"
MILLISECONDS = "Milliseconds"


@dataclass(frozen=True)
class Metric:
    """One metric: its name, its unit (a CloudWatch unit name) and its one dimension besides `service`."""

    name: str
    unit: str = COUNT
    dimension: str | None = None


# The authorizer: one per $connect decision.
TOKEN_ACCEPTED = Metric("TokenAccepted")
TOKEN_REJECTED = Metric("TokenRejected", dimension="reason")  # a cognito_verifier.Reason value, or:
AUTHORIZER_FAILED_REASON = "internal_error"  # an unexpected failure of the authorizer itself
KEYS_UNAVAILABLE_REASON = "keys_unavailable"  # cognito_verifier.Reason.KEYS_UNAVAILABLE

# LifecycleFunction: $connect and $disconnect.
CONNECTIONS_OPENED = Metric("Connections")
CONNECTIONS_REFUSED = Metric("ConnectionsRefused", dimension="Status")  # the status $connect answered
CONNECTIONS_CLOSED = Metric("Disconnections")
DISCONNECT_FAILURES = Metric("DisconnectFailures")
UNEXPECTED_ROUTES = Metric("UnexpectedRoutes")

# Every frame-handling function (chat.handlers.pipeline).
FRAMES = Metric("Requests", dimension="Route")  # the route key
ERROR_REPLIES = Metric("Errors", dimension="Code")  # the protocol's error code
INTERNAL_ERROR_CODE = "INTERNAL_ERROR"
# A reply over API Gateway's 128 KB message limit, replaced by INTERNAL_ERROR (a bug: never expected).
OVERSIZED_REPLIES = Metric("OversizedReplies")
# From API Gateway receiving a frame (requestTimeEpoch) to the function returning its `ack`.
ACK_LATENCY = Metric("AckLatency", unit=MILLISECONDS)

# sendMessage and the fan-out to a room (chat.logic).
MESSAGES_STORED = Metric("MessagesStored")
# A stored message whose mentioned members' unread-mention counts could not all be written.
MENTION_COUNT_FAILURES = Metric("MentionCountFailures")
MESSAGES_EDITED = Metric("MessagesEdited")  # editMessage stored a new version
MESSAGES_DELETED = Metric("MessagesDeleted")  # deleteMessage replaced a message by its tombstone
# A stored message whose last-message item (listRooms) could not be written; the ack still goes.
LAST_MESSAGE_FAILURES = Metric("LastMessageFailures")
POSTS_DELIVERED = Metric("ConnectionsReached")
POSTS_GONE = Metric("ConnectionsGone")  # 410: the connection had closed
STALE_CONNECTIONS_REMOVED = Metric("StaleConnectionsRemoved")
# 410 from a connection still inside its `$connect` (not established yet): its records are kept.
GONE_WHILE_CONNECTING = Metric("GoneWhileConnecting")
POST_FAILURES = Metric("PostFailures", dimension="Kind")  # throttled, server_error, timeout, rejected,
POST_TOO_LARGE_KIND = "too_large"  # or this: 413 PayloadTooLargeException, over the 128 KB limit
FANOUT_DURATION = Metric("FanoutDuration", unit=MILLISECONDS)  # one invocation's posts (one batch)
# The fan-out function (chat.logic.fanout_job) and the routes that start it (chat.notify).
FANOUT_BATCHES = Metric("FanoutBatches")  # batches a room fan-out handed to parallel invocations
FANOUT_DISPATCH_FAILURES = Metric("FanoutDispatchFailures")  # a fan-out that could not be queued
# FIFO records kept for a retry: a failed room job and its room's later ones (chat.logic.fanout_records).
FANOUT_RECORDS_RETRIED = Metric("FanoutRecordsRetried")
# A room's messages in seq order (chat.logic.room_order): a seq taken but never stored, skipped after
# waiting for it; a message stored after a later one had been delivered, posted late.
FANOUT_GAPS_SKIPPED = Metric("FanoutGapsSkipped")
FANOUT_LATE_MESSAGES = Metric("FanoutLateMessages")
# Member items the fan-out found out of step with the online index and put right: listed from before
# the index, or left in it with no entry by a crash (chat.logic.fanout_job, dal/online.py).
ONLINE_INDEX_REPAIRS = Metric("OnlineIndexRepairs")
# Connections whose session (token) ended without a reauth (chat.logic.fanout_job).
SESSIONS_EXPIRED_TOLD = Metric("SessionsExpiredTold")  # `sessionExpired` posted (once per expiry)
SESSIONS_CLOSED = Metric("SessionsClosed")  # closed with DeleteConnection after the grace
# Floods and caps (chat.handlers.broadcast, chat.logic.rooms).
TYPING_DROPPED = Metric("TypingDropped")  # a `typing` over its per-room interval, dropped unanswered
ROOM_FOLLOW_UP_FAILURES = Metric("RoomFollowUpFailures")  # createRoom's work after the room was written
ROOM_COUNTS_CORRECTED = Metric(
    "RoomCountsCorrected"
)  # a user's room counter recounted (a crash over-counted)
