"""The events API Gateway sends to a WebSocket API's authorizer and route integrations."""

from __future__ import annotations

import base64
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class ApiContext:
    """What every event of this API has in common."""

    api_id: str
    stage: str
    domain_name: str
    region: str
    account: str

    def method_arn(self, route_key: str) -> str:
        return f"arn:aws:execute-api:{self.region}:{self.account}:{self.api_id}/{self.stage}/{route_key}"


@dataclass
class ConnectionInfo:
    """What API Gateway knows about a connection, from its handshake on."""

    connection_id: str
    source_ip: str
    user_agent: str
    headers: dict[str, str]
    query: dict[str, str]
    connected_at: int = field(default_factory=now_ms)
    authorizer: dict[str, str] | None = None


def _request_context(
    api: ApiContext, conn: ConnectionInfo, route_key: str, event_type: str
) -> dict[str, Any]:
    request_time = now_ms()
    context: dict[str, Any] = {
        "routeKey": route_key,
        "eventType": event_type,
        "extendedRequestId": _short_id(),
        "requestTime": datetime.fromtimestamp(request_time / 1000, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "messageDirection": "IN",
        "stage": api.stage,
        "connectedAt": conn.connected_at,
        "requestTimeEpoch": request_time,
        "identity": {"sourceIp": conn.source_ip},
        "requestId": _short_id(),
        "domainName": api.domain_name,
        "connectionId": conn.connection_id,
        "apiId": api.api_id,
    }
    if event_type == "CONNECT":
        context["identity"]["userAgent"] = conn.user_agent
    if conn.authorizer is not None:
        context["authorizer"] = dict(conn.authorizer)
    return context


def _handshake_fields(conn: ConnectionInfo) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "headers": dict(conn.headers),
        "multiValueHeaders": {key: [value] for key, value in conn.headers.items()},
    }
    if conn.query:
        fields["queryStringParameters"] = dict(conn.query)
        fields["multiValueQueryStringParameters"] = {key: [value] for key, value in conn.query.items()}
    return fields


def authorizer_event(api: ApiContext, conn: ConnectionInfo) -> dict[str, Any]:
    return {
        "type": "REQUEST",
        "methodArn": api.method_arn("$connect"),
        **_handshake_fields(conn),
        "stageVariables": {},
        "requestContext": _request_context(api, conn, "$connect", "CONNECT"),
    }


def connect_event(api: ApiContext, conn: ConnectionInfo) -> dict[str, Any]:
    return {
        **_handshake_fields(conn),
        "requestContext": _request_context(api, conn, "$connect", "CONNECT"),
        "isBase64Encoded": False,
    }


def message_event(
    api: ApiContext, conn: ConnectionInfo, route_key: str, message: str | bytes
) -> dict[str, Any]:
    context = _request_context(api, conn, route_key, "MESSAGE")
    context["messageId"] = _short_id()
    binary = isinstance(message, bytes)
    body = base64.b64encode(message).decode() if binary else message
    return {"requestContext": context, "body": body, "isBase64Encoded": binary}


def disconnect_event(api: ApiContext, conn: ConnectionInfo, status_code: int, reason: str) -> dict[str, Any]:
    context = _request_context(api, conn, "$disconnect", "DISCONNECT")
    context["disconnectStatusCode"] = status_code
    context["disconnectReason"] = reason
    headers = {"Host": api.domain_name, "x-api-key": "", "X-Forwarded-For": "", "x-restapi": ""}
    return {
        "headers": headers,
        "multiValueHeaders": {key: [value] for key, value in headers.items()},
        "requestContext": context,
        "isBase64Encoded": False,
    }


def new_connection_id() -> str:
    """An id shaped like API Gateway's (16 characters ending in ``=``), safe in a URL path."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes[:11]).decode()


def new_request_id() -> str:
    return _short_id()


def _short_id() -> str:
    return base64.urlsafe_b64encode(uuid.uuid4().bytes[:6]).decode() + "="
