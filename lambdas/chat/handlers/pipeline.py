"""What every frame-handling route shares: identity, decoding, the expiry gate, errors, logs, metrics."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import metric_names
import route_keys
from chat.config import ChatSettings
from chat.dal import client as dal_client
from chat.logic import ratelimit, sessions
from chat.models import budget, frames
from chat.models.domain import Caller
from chat.models.errors import ChatError, InternalError, RateLimited
from chat.models.requests import ClientFrame
from chat.notify import Notifier
from chat.observability import count, count_by, logger, milliseconds
from chat.timeutil import now


class MissingIdentity(Exception):
    """The event carries no authorizer context: the API is misconfigured, never the client's fault."""


@dataclass(frozen=True)
class RouteEvent:
    """What a route function reads from API Gateway's event, read once: route key, caller, context."""

    route_key: str
    context: Mapping[str, Any]  # requestContext
    caller: Caller | None  # None: no usable `requestContext.authorizer`
    body: str | bytes | None
    base64_encoded: bool

    @classmethod
    def read(cls, event: Mapping[str, Any]) -> RouteEvent:
        context = event.get("requestContext") or {}
        return cls(
            route_key=str(context.get("routeKey")),
            context=context,
            caller=_caller(context),
            body=event.get("body"),
            base64_encoded=bool(event.get("isBase64Encoded")),
        )

    def identified_caller(self) -> Caller:
        if self.caller is None:
            raise MissingIdentity("no usable requestContext.authorizer")
        return self.caller

    def bind_log_keys(self) -> None:
        authorizer = self.context.get("authorizer") or {}
        logger.append_keys(
            route=self.context.get("routeKey"),
            connection_id=self.context.get("connectionId"),
            request_id=self.context.get("requestId"),
            user_id=authorizer.get("userId"),
        )


@dataclass(frozen=True)
class Call:
    """One client frame, with everything an action needs to act on it."""

    caller: Caller
    frame: ClientFrame
    settings: ChatSettings
    now: float

    @property
    def notifier(self) -> Notifier:
        return Notifier.from_settings(self.settings)


Action = Callable[[Call], "frames.ServerFrame | None"]


def load_settings(module: str) -> ChatSettings:
    """The settings of the function whose handler is in `module`, parsed once at its import; also
    names the table for the data-access layer. A bad value raises here: the cold start fails."""
    settings = ChatSettings.for_handler(module)
    dal_client.use_table(settings.table_name)
    return settings


def _caller(context: Mapping[str, Any]) -> Caller | None:
    """The caller, from `requestContext.authorizer` only (strings, as API Gateway delivers them)."""
    authorizer = context.get("authorizer") or {}
    try:
        return Caller(
            connection_id=str(context["connectionId"]),
            user_id=str(authorizer["userId"]),
            username=str(authorizer.get("username", "")),
            email=authorizer.get("email") or None,
            token_expires_at=int(authorizer["tokenExpiresAt"]),
            display_name=str(authorizer.get("displayName", "")),
        )
    except (KeyError, TypeError, ValueError):
        return None


def serve(
    event: Mapping[str, Any],
    routes: Mapping[str, Action],
    *,
    settings: ChatSettings,
    expiry_exempt: frozenset[str],
) -> dict[str, Any]:
    """Run the action of the event's route key; every failure becomes the protocol's error frame."""
    inbound = RouteEvent.read(event)
    inbound.bind_log_keys()
    route_key = inbound.route_key
    count_by(metric_names.FRAMES, route_key)
    action_name = route_key if route_key in routes and route_key != route_keys.DEFAULT else None
    request_id = None
    try:
        action = routes.get(route_key)
        if action is None:  # the API routes a key to the wrong function: a deployment error
            raise LookupError(f"no action for route {route_key!r}")
        caller = inbound.identified_caller()
        frame = ClientFrame.decode(inbound.body, base64_encoded=inbound.base64_encoded)
        request_id = frame.request_id
        logger.append_keys(client_request_id=request_id)
        call = Call(caller=caller, frame=frame, settings=settings, now=now())
        _ensure_within_rate(call, route_key)
        if route_key not in expiry_exempt:
            sessions.ensure_token_valid(caller, call.now)
        reply = action(call)
    except ChatError as err:
        logger.info("request refused", extra={"code": err.code})
        count_by(metric_names.ERROR_REPLIES, err.code)
        reply = frames.error(err, action=action_name)
    except Exception:
        logger.exception("request failed")
        count_by(metric_names.ERROR_REPLIES, InternalError.code)
        reply = frames.error(InternalError(), action=action_name)
    if reply is None:
        return {"statusCode": 200}
    if reply["type"] == "ack":
        _record_ack_latency(inbound.context)
    if request_id is not None:
        reply["requestId"] = request_id
    return {"statusCode": 200, "body": _within_message_limit(reply, action_name)}


def _within_message_limit(reply: frames.ServerFrame, action_name: str | None) -> str:
    """The reply's body; over API Gateway's 128 KB (a bug: listings stop at their budget), the client
    gets a retryable INTERNAL_ERROR instead of nothing, and the reply is logged and counted."""
    body = budget.encode(reply)
    size = len(body.encode("utf-8"))
    if size <= budget.MESSAGE_LIMIT_BYTES:
        return body
    logger.error("reply over the message limit", extra={"frame_type": reply.get("type"), "bytes": size})
    count(metric_names.OVERSIZED_REPLIES)
    count_by(metric_names.ERROR_REPLIES, InternalError.code)
    error = frames.error(InternalError(), action=action_name)
    if "requestId" in reply:
        error["requestId"] = reply["requestId"]
    return budget.encode(error)


def _ensure_within_rate(call: Call, route_key: str) -> None:
    """The connection's bucket for a limited action, before the action reads or writes anything."""
    limit = call.settings.rate_limits.get(route_key)
    if limit is not None and not ratelimit.allow(call.caller.connection_id, route_key, limit, now=call.now):
        raise RateLimited(route_key)


def _record_ack_latency(context: Mapping[str, Any]) -> None:
    """From API Gateway receiving the frame to this reply: the sender's wait, less the way back.

    Skipped when the event carries no usable `requestTimeEpoch`.
    """
    received_ms = context.get("requestTimeEpoch")
    if isinstance(received_ms, int | float) and not isinstance(received_ms, bool):
        milliseconds(metric_names.ACK_LATENCY, max(0.0, time.time() * 1000 - received_ms))
