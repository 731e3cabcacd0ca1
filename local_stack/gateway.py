"""The API Gateway WebSocket emulator: handshake, authorizer, route selection, route responses, limits.

Every behaviour is driven by the ``ApiSpec`` read from the template; the functions run in worker pools.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.protocol import State

from local_stack import events
from local_stack.authorization import decide, identity_present, parse_query
from local_stack.model import ApiSpec, RouteSpec
from local_stack.workers import FunctionPool, InvocationError

FRAME_LIMIT = 32 * 1024
MESSAGE_LIMIT = 128 * 1024
GOING_AWAY = 1001
CLOSED_ABNORMALLY = (1006, "Connection was closed abnormally")

log = logging.getLogger("local_stack.gateway")


@dataclass(frozen=True)
class Limits:
    idle_timeout: float = 600.0
    max_lifetime: float = 7200.0
    integration_timeout: float = 29.0


@dataclass
class GatewayConnection:
    """A live connection: its websocket, what API Gateway knows of it, and why the server closed it."""

    info: events.ConnectionInfo
    websocket: ServerConnection
    last_active_at: float = field(default_factory=time.time)
    server_close: tuple[int, str] | None = None
    lose_disconnect: bool = False


class Gone(Exception):
    """The connection does not exist (any more): ``@connections`` answers 410."""


class Gateway:
    def __init__(
        self,
        api: ApiSpec,
        pools: dict[str, FunctionPool],
        context: events.ApiContext,
        limits: Limits = Limits(),
    ) -> None:
        self.api = api
        self.context = context
        self.limits = limits
        self._pools = pools
        self._pending: dict[Any, events.ConnectionInfo] = {}
        self.connections: dict[str, GatewayConnection] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    async def serve(self, host: str, port: int) -> Server:
        return await serve(
            self._handle,
            host,
            port,
            process_request=self._handshake,
            compression=None,
            max_size=(MESSAGE_LIMIT, FRAME_LIMIT),
            ping_interval=None,
            open_timeout=self.limits.integration_timeout * 2 + 5,
            server_header="local-api-gateway",
        )

    # -- handshake ------------------------------------------------------------------------------

    async def _handshake(self, websocket: ServerConnection, request: Request) -> Response | None:
        path, _, raw_query = request.path.partition("?")
        if path.rstrip("/") != f"/{self.api.stage}":
            return _refuse(websocket, HTTPStatus.FORBIDDEN, "Forbidden")
        host, *_ = websocket.remote_address
        info = events.ConnectionInfo(
            connection_id=events.new_connection_id(),
            source_ip=host,
            user_agent=request.headers.get("User-Agent", ""),
            headers=_connect_headers(request.headers, host),
            query=parse_query(raw_query),
        )
        route = self.api.routes.get("$connect")
        if route is not None and route.authorizer is not None:
            status = await self._authorize(route, info)
            if status is not None:
                return _refuse(websocket, status, HTTPStatus(status).phrase)
        if route is not None and route.function is not None:
            status = await self._connect(route, info)
            if status is not None:
                return _refuse(websocket, status, HTTPStatus(status).phrase)
            if websocket.state is not State.CONNECTING:
                # The client gave up while `$connect` ran (its handshake timed out): websockets sends
                # no response and never calls `_handle`. The integration was told the connection
                # opened, so it is told it ended, as for a dropped one (docs/LOCAL.md, "Handshake").
                log.info("client gone before $connect returned: %s", info.connection_id)
                self._spawn(self._disconnect(info, *CLOSED_ABNORMALLY))
                return None
        self._pending[websocket] = info
        return None

    async def _authorize(self, route: RouteSpec, info: events.ConnectionInfo) -> int | None:
        assert route.authorizer is not None
        if not identity_present(route.authorizer.identity_sources, info.query, info.headers):
            log.info("$connect refused: identity source missing (401), authorizer not called")
            return 401
        try:
            result = await self._pools[route.authorizer.function].invoke(
                events.authorizer_event(self.context, info)
            )
        except InvocationError as error:
            if error.kind == "unhandled" and error.message == "Unauthorized":
                return 401
            log.warning("authorizer failed (%s: %s): 500", error.error_type or error.kind, error.message)
            return 500
        decision = decide(result, self.context.method_arn("$connect"))
        if decision.status is not None:
            log.info("$connect refused by the authorizer: %d", decision.status)
            return decision.status
        info.authorizer = {**decision.context, "principalId": decision.principal_id}
        return None

    async def _connect(self, route: RouteSpec, info: events.ConnectionInfo) -> int | None:
        assert route.function is not None
        try:
            result = await self._pools[route.function].invoke(events.connect_event(self.context, info))
        except InvocationError as error:
            log.warning("$connect integration failed (%s): 500", error.message)
            return 500
        status = _status_of(result)
        return None if 200 <= status < 300 else status

    # -- an open connection -----------------------------------------------------------------------

    async def _handle(self, websocket: ServerConnection) -> None:
        info = self._pending.pop(websocket)
        connection = GatewayConnection(info, websocket)
        self.connections[info.connection_id] = connection
        log.info("connected %s", info.connection_id)
        watchdog = asyncio.create_task(self._watch(connection))
        try:
            async for message in websocket:
                connection.last_active_at = time.time()
                self._spawn(self._on_message(connection, message))
        except ConnectionClosed:
            pass
        finally:
            watchdog.cancel()
            del self.connections[info.connection_id]
            code, reason = _disconnect_cause(connection)
            log.info("disconnected %s (%d %s)", info.connection_id, code, reason)
            if not connection.lose_disconnect:
                self._spawn(self._disconnect(info, code, reason))

    async def _watch(self, connection: GatewayConnection) -> None:
        """Close the connection when it has been idle, or open, for longer than API Gateway allows."""
        opened = connection.info.connected_at / 1000
        while True:
            now = time.time()
            idle_deadline = connection.last_active_at + self.limits.idle_timeout
            life_deadline = opened + self.limits.max_lifetime
            if now >= min(idle_deadline, life_deadline):
                connection.server_close = (GOING_AWAY, "Going away")
                await connection.websocket.close(GOING_AWAY, "Going away")
                return
            await asyncio.sleep(min(idle_deadline, life_deadline) - now)

    async def _on_message(self, connection: GatewayConnection, message: str | bytes) -> None:
        info = connection.info
        route = self._select(message)
        if route is None:
            await self._send_error(connection, "Forbidden")
            return
        if route.function is None:
            await self._send_error(connection, "Internal server error")
            return
        event = events.message_event(self.context, info, route.key, message)
        try:
            result = await self._pools[route.function].invoke(event)
        except InvocationError as error:
            log.warning("%s integration failed (%s): %s", route.key, error.kind, error.message)
            await self._send_error(connection, "Internal server error", event)
            return
        except Exception:  # a bug of the emulator's: the client still gets API Gateway's answer
            log.exception("%s: the emulator failed to invoke the integration", route.key)
            await self._send_error(connection, "Internal server error", event)
            return
        if route.two_way:
            reply = _route_response(result)
            if reply is not None and len(reply.encode("utf-8", "surrogatepass")) > MESSAGE_LIMIT:
                # AWS documents no answer for this: treated as a failed integration (docs/LOCAL.md).
                log.warning("%s: route response over the 128 KB message limit, not sent", route.key)
                await self._send_error(connection, "Internal server error", event)
            elif reply is not None:
                with contextlib.suppress(ConnectionClosed):
                    await connection.websocket.send(reply)

    def _select(self, message: str | bytes) -> RouteSpec | None:
        key = _selection_value(self.api.selection_expression, message)
        if key is not None and key not in {"$connect", "$disconnect"} and key in self.api.routes:
            return self.api.routes[key]
        return self.api.routes.get("$default")

    async def _send_error(
        self, connection: GatewayConnection, message: str, event: dict[str, Any] | None = None
    ) -> None:
        request_id = event["requestContext"]["requestId"] if event else events.new_request_id()
        frame = {"message": message, "connectionId": connection.info.connection_id, "requestId": request_id}
        with contextlib.suppress(ConnectionClosed):
            await connection.websocket.send(json.dumps(frame))

    async def _disconnect(self, info: events.ConnectionInfo, code: int, reason: str) -> None:
        route = self.api.routes.get("$disconnect")
        if route is None or route.function is None:
            return
        try:
            await self._pools[route.function].invoke(
                events.disconnect_event(self.context, info, code, reason), urgent=False
            )
        except InvocationError as error:
            log.warning("$disconnect integration failed: %s", error.message)

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- @connections ---------------------------------------------------------------------------

    def get(self, connection_id: str) -> GatewayConnection:
        connection = self.connections.get(connection_id)
        if connection is None:
            raise Gone(connection_id)
        return connection

    async def post(self, connection_id: str, data: bytes) -> None:
        websocket = self.get(connection_id).websocket
        try:
            text = data.decode()
        except UnicodeDecodeError:
            text = None
        try:
            await websocket.send(text if text is not None else data)
        except ConnectionClosed:
            raise Gone(connection_id) from None

    async def delete(self, connection_id: str) -> None:
        connection = self.get(connection_id)
        connection.server_close = (1000, "Connection deleted by the @connections API")
        self._spawn(connection.websocket.close(1000, ""))

    def vanish(self, connection_id: str) -> None:
        """Fault injection: drop the TCP connection with no close frame and lose its ``$disconnect``."""
        connection = self.get(connection_id)
        connection.lose_disconnect = True
        connection.websocket.transport.abort()

    async def drain(self) -> None:
        """Wait for in-flight integrations (used on shutdown)."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=self.limits.integration_timeout)


def _refuse(websocket: ServerConnection, status: int, message: str) -> Response:
    response = websocket.respond(HTTPStatus(status), json.dumps({"message": message}) + "\n")
    response.headers["Content-Type"] = "application/json"
    return response


def _connect_headers(headers: Headers, source_ip: str) -> dict[str, str]:
    collected = {key: value for key, value in headers.raw_items()}
    collected.setdefault("X-Forwarded-For", source_ip)
    collected.setdefault("X-Forwarded-Proto", "http")
    return collected


def _status_of(result: Any) -> int:
    if isinstance(result, dict) and "statusCode" in result:
        try:
            return int(result["statusCode"])
        except (TypeError, ValueError):
            return 500
    return 200


def _route_response(result: Any) -> str | None:
    """The frame a two-way route sends back: the proxy result's body, or nothing without one."""
    if result is None:
        return None
    if isinstance(result, dict) and ("statusCode" in result or "body" in result):
        body = result.get("body")
        return None if body is None else body if isinstance(body, str) else json.dumps(body)
    return json.dumps(result)


def _selection_value(expression: str, message: str | bytes) -> str | None:
    """Evaluate ``$request.body.<path>`` against a frame; None when it is not JSON or has no value."""
    if not expression.startswith("$request.body.") or isinstance(message, bytes):
        return None
    try:
        value: Any = json.loads(message)
    except ValueError:
        return None
    for part in expression.removeprefix("$request.body.").split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value if isinstance(value, str) else None


def _disconnect_cause(connection: GatewayConnection) -> tuple[int, str]:
    """The close code and reason ``$disconnect`` reports, however the connection ended."""
    if connection.server_close is not None:
        return connection.server_close
    protocol = connection.websocket.protocol
    if protocol.close_rcvd is not None and protocol.close_rcvd_then_sent:
        code = protocol.close_rcvd.code
        return code, protocol.close_rcvd.reason or (
            "Client-side close frame status not set" if code == 1005 else ""
        )
    if protocol.close_sent is not None and protocol.close_sent.code != 1000:
        return protocol.close_sent.code, protocol.close_sent.reason
    return CLOSED_ABNORMALLY
