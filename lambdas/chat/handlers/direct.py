"""DirectFunction: `$default`, ping, whoami, reauth, listRooms, getMessages, getMembers (replies only)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

import route_keys
from chat.handlers.pipeline import Call, load_settings, serve
from chat.logic import messages, reauth, rooms, sessions
from chat.models import cursors, frames, requests
from chat.models.errors import UnknownAction
from chat.observability import logger, metrics
from chat.timeutil import iso


def unknown_action(call: Call) -> frames.ServerFrame:
    action = requests.action_name(call.frame)
    raise UnknownAction(f"unknown action {action[:64]!r}; valid actions: {', '.join(requests.ACTIONS)}")


def ping(call: Call) -> frames.ServerFrame:
    sessions.keep_alive(call.caller, call.now)
    return frames.pong()


def whoami(call: Call) -> frames.ServerFrame:
    caller = call.caller
    return frames.identity(
        user_id=caller.user_id,
        username=caller.username,
        email=caller.email,
        connection_id=caller.connection_id,
        expires_at=iso(sessions.expiry(caller)),
    )


def reauthenticate(call: Call) -> frames.ServerFrame:
    request = requests.reauth(call.frame)
    return frames.reauthenticated(
        iso(reauth.reauth(call.caller, request.id_token, verifier=call.settings.verifier))
    )


def list_rooms(call: Call) -> frames.ServerFrame:
    request = requests.list_rooms(call.frame)
    items, last_room = rooms.listing(call.caller, after=request.after, limit=request.limit)
    return frames.rooms(items, cursors.rooms_cursor(last_room) if last_room is not None else None)


def get_messages(call: Call) -> frames.ServerFrame:
    request = requests.get_messages(call.frame)
    items, has_more = messages.history(call.caller, request)
    return frames.messages(request.room_id, items, has_more)


def get_members(call: Call) -> frames.ServerFrame:
    request = requests.get_members(call.frame)
    items, cursor = rooms.member_page(
        call.caller, request.room_id, cursor=request.cursor, limit=request.limit
    )
    return frames.members(request.room_id, items, cursor, now=call.now)


ROUTES = {
    route_keys.DEFAULT: unknown_action,
    route_keys.PING: ping,
    route_keys.WHOAMI: whoami,
    route_keys.REAUTH: reauthenticate,
    route_keys.LIST_ROOMS: list_rooms,
    route_keys.GET_MESSAGES: get_messages,
    route_keys.GET_MEMBERS: get_members,
}

# Parsed once, when Lambda imports this module (tests re-read it after changing the environment).
SETTINGS = load_settings(__name__)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return serve(event, ROUTES, settings=SETTINGS, expiry_exempt=route_keys.EXPIRY_EXEMPT)
