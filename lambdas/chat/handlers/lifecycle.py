"""LifecycleFunction: `$connect` records the connection, `$disconnect` forgets it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

import metric_names
import route_keys
from chat.dal import connections
from chat.handlers.pipeline import RouteEvent, load_settings
from chat.logic import sessions
from chat.notify import Notifier
from chat.observability import count, count_by, logger, metrics
from chat.timeutil import now


def connect(event: RouteEvent) -> dict[str, Any]:
    """200 accepts the connection; anything else refuses it (the records are written all or nothing)."""
    caller = event.caller
    if caller is None:
        logger.error("connect without authorizer context: refused")
        return _refused(403)
    try:
        sessions.connect(
            caller,
            now(),
            max_connections=SETTINGS.max_connections_per_user,
            notifier=Notifier.from_settings(SETTINGS),
        )
    except connections.TooManyConnections:
        logger.info("connect refused: too many open connections")
        return _refused(429)
    except Exception:
        logger.exception("connect failed: refused")
        return _refused(500)
    count(metric_names.CONNECTIONS_OPENED)
    return {"statusCode": 200}


def _refused(status: int) -> dict[str, Any]:
    count_by(metric_names.CONNECTIONS_REFUSED, str(status))
    return {"statusCode": status}


def disconnect(event: RouteEvent) -> dict[str, Any]:
    """Best effort and idempotent: whatever is left is found by TTL or by a 410 later."""
    try:
        caller = event.identified_caller()
        sessions.drop(
            caller.connection_id,
            caller.user_id,
            now=now(),
            notifier=Notifier.from_settings(SETTINGS),
            display_name=caller.name,
        )
    except Exception:
        logger.exception("disconnect cleanup failed")
        count(metric_names.DISCONNECT_FAILURES)
    else:
        count(metric_names.CONNECTIONS_CLOSED)
    return {"statusCode": 200}


# Parsed once, when Lambda imports this module (tests re-read it after changing the environment).
SETTINGS = load_settings(__name__)
ROUTES: dict[str, Callable[[RouteEvent], dict[str, Any]]] = {
    route_keys.CONNECT: connect,
    route_keys.DISCONNECT: disconnect,
}


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    inbound = RouteEvent.read(event)
    inbound.bind_log_keys()
    route = ROUTES.get(inbound.route_key)
    if route is None:
        logger.error("unexpected route for the lifecycle function")
        count(metric_names.UNEXPECTED_ROUTES)
        return {"statusCode": 400}
    return route(inbound)
