"""The CloudWatch Logs Insights queries of docs/OPERATIONS.md, saved per environment by the stack.

Each reads fields the logs really carry: the WebSocket access log format (stacks/websocket_api.py),
the authorizer's decision lines (authorizer/telemetry.py) and the chat functions' Powertools lines
(`route`, `connection_id`, `user_id`, `request_id`, `client_request_id` on every line; `code`,
`kind`, the fan-out counts on some). A placeholder in capitals (USER_ID, ROOM_ID) is what the
operator replaces before running the query.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Source(Enum):
    """Which log groups a query reads."""

    ACCESS_LOGS = "the WebSocket API's access logs"
    AUTHORIZER = "AuthorizerFunction's log group"
    CHAT_FUNCTIONS = "the log groups of every function but the authorizer"


@dataclass(frozen=True)
class LogQuery:
    key: str  # its construct id
    name: str  # its name in the console, after `Chat-<env>/`, and its heading in OPERATIONS.md
    source: Source
    query: str


USER_CONNECTIONS = LogQuery(
    "UserConnections",
    "One user's connections",
    Source.ACCESS_LOGS,
    """fields @timestamp, eventType, connectionId, status, sourceIp
| filter userId = "USER_ID" and eventType in ["CONNECT", "DISCONNECT"]
| sort @timestamp desc
| limit 200""",
)
ROOM_DELIVERIES = LogQuery(
    "RoomDeliveries",
    "One room's deliveries",
    Source.CHAT_FUNCTIONS,
    """fields @timestamp, route, frame_type, audience, delivered, gone, failed, duration_ms, user_id
| filter message = "fan-out" and room_id = "ROOM_ID"
| sort @timestamp desc
| limit 200""",
)
REFUSED_HANDSHAKES = LogQuery(
    "RefusedHandshakes",
    "Refused handshakes",
    Source.ACCESS_LOGS,
    """fields @timestamp, status, authorizerError, integrationStatus, integrationError, errorMessage, sourceIp
| filter eventType = "CONNECT" and status != "200"
| sort @timestamp desc
| limit 200""",
)
TOKEN_REJECTIONS = LogQuery(
    "TokenRejections",
    "Token rejections by reason",
    Source.AUTHORIZER,
    """filter message in ["token rejected", "authorizer failed"]
| stats count(*) as rejections by reason, errorType
| sort rejections desc""",
)
CHAT_ERRORS = LogQuery(
    "ChatErrors",
    "Errors and warnings of the chat functions",
    Source.CHAT_FUNCTIONS,
    """fields @timestamp, @log, route, message, code, kind, exception_name, connection_id, user_id, request_id
| filter level in ["ERROR", "WARNING"]
| sort @timestamp desc
| limit 200""",
)

QUERIES: tuple[LogQuery, ...] = (
    USER_CONNECTIONS,
    ROOM_DELIVERIES,
    REFUSED_HANDSHAKES,
    TOKEN_REJECTIONS,
    CHAT_ERRORS,
)
