"""The ``@connections`` management API over HTTP, at the paths boto3's ``apigatewaymanagementapi`` uses.

    POST   /<stage>/@connections/<id>   send the body to the connection (410 GoneException if gone)
    GET    /<stage>/@connections/<id>   connectedAt, identity, lastActiveAt
    DELETE /<stage>/@connections/<id>   close the connection

A boto3 client with ``endpoint_url=http://127.0.0.1:<port>/<stage>`` talks to it unchanged. Requests
are not authenticated (any SigV4 signature is accepted). One more path exists for fault injection
in tests, and API Gateway has no equivalent:

    POST   /_emulator/connections/<id>/vanish   drop the TCP connection and lose its ``$disconnect``
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import unquote

from local_stack import http_server
from local_stack.gateway import MESSAGE_LIMIT, Gateway, Gone
from local_stack.http_server import Reply


def _error(status: int, error_type: str, message: str) -> Reply:
    body = json.dumps({"message": message}).encode()
    return status, {"x-amzn-ErrorType": error_type, "Content-Type": "application/json"}, body


def _iso(epoch_seconds: float) -> str:
    return datetime.fromtimestamp(epoch_seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class ManagementApi:
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    async def serve(self, host: str, port: int) -> http_server.HttpServer:
        return await http_server.serve(self.handle, host, port, limit=MESSAGE_LIMIT * 4)

    async def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Reply:
        parts = [unquote(part) for part in target.split("?", 1)[0].strip("/").split("/")]
        if len(parts) == 4 and parts[0] == "_emulator" and parts[1] == "connections" and parts[3] == "vanish":
            return self._vanish(parts[2])
        if len(parts) != 3 or parts[1] != "@connections":
            return _error(404, "NotFoundException", "Not Found")
        stage, _, connection_id = parts
        if stage != self.gateway.api.stage:
            return _error(403, "ForbiddenException", "Forbidden")
        try:
            if method == "POST":
                if len(body) > MESSAGE_LIMIT:
                    return _error(413, "PayloadTooLargeException", "Request payload too large")
                await self.gateway.post(connection_id, body)
                return 200, {}, b""
            if method == "GET":
                return self._describe(connection_id)
            if method == "DELETE":
                await self.gateway.delete(connection_id)
                return 204, {}, b""
        except Gone:
            return _error(410, "GoneException", f"Connection {connection_id} is gone")
        return _error(405, "MethodNotAllowedException", f"{method} is not supported")

    def _describe(self, connection_id: str) -> Reply:
        connection = self.gateway.get(connection_id)
        info = connection.info
        description = {
            "connectedAt": _iso(info.connected_at / 1000),
            "identity": {"sourceIp": info.source_ip, "userAgent": info.user_agent},
            "lastActiveAt": _iso(connection.last_active_at),
        }
        return 200, {"Content-Type": "application/json"}, json.dumps(description).encode()

    def _vanish(self, connection_id: str) -> Reply:
        try:
            self.gateway.vanish(connection_id)
        except Gone:
            return _error(410, "GoneException", f"Connection {connection_id} is gone")
        return 204, {}, b""
