"""BroadcastFunction: createRoom, joinRoom, leaveRoom, sendMessage, editMessage, deleteMessage,
markRead, typing (these fan out, through the fan-out function)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

import metric_names
import route_keys
from chat.handlers.pipeline import Call, load_settings, serve
from chat.logic import message_changes, messages, ratelimit, room_creation, rooms
from chat.models import frames, requests
from chat.observability import count, logger, metrics


def create_room(call: Call) -> frames.ServerFrame:
    request = requests.create_room(call.frame)
    room, member_ids = room_creation.create(
        call.caller,
        request,
        notifier=call.notifier,
        verified_only=call.settings.require_verified_sender,
        max_rooms=call.settings.max_rooms_per_user,
        now=call.now,
    )
    return frames.room(room, member_ids)


def join_room(call: Call) -> frames.ServerFrame:
    request = requests.room_request(call.frame)
    rooms.join(
        call.caller,
        request.room_id,
        notifier=call.notifier,
        max_members=call.settings.max_room_members,
        max_rooms=call.settings.max_rooms_per_user,
        now=call.now,
    )
    return frames.joined(request.room_id)


def leave_room(call: Call) -> frames.ServerFrame:
    request = requests.room_request(call.frame)
    rooms.leave(call.caller, request.room_id, notifier=call.notifier, now=call.now)
    return frames.left(request.room_id)


def send_message(call: Call) -> frames.ServerFrame:
    request = requests.send_message(call.frame, call.settings.message_max_length)
    ack = messages.send(call.caller, request, settings=call.settings, notifier=call.notifier, now=call.now)
    return frames.ack(ack)


def edit_message(call: Call) -> frames.ServerFrame:
    request = requests.edit_message(call.frame, call.settings.message_max_length)
    edited = message_changes.edit(
        call.caller,
        request,
        notifier=call.notifier,
        verified_only=call.settings.require_verified_sender,
        now=call.now,
    )
    return frames.edited(edited)


def delete_message(call: Call) -> frames.ServerFrame:
    request = requests.message_request(call.frame)
    return frames.deleted(message_changes.delete(call.caller, request, notifier=call.notifier, now=call.now))


def mark_read(call: Call) -> frames.ServerFrame:
    request = requests.mark_read(call.frame)
    position = rooms.mark_read(call.caller, request.room_id, request.seq, notifier=call.notifier)
    return frames.read_marked(request.room_id, position)


def typing(call: Call) -> None:
    """Best-effort: over its limit (one per room per interval), the frame is dropped unanswered."""
    request = requests.room_request(call.frame)
    interval = call.settings.typing_interval_seconds
    if not ratelimit.allow_typing(
        call.caller.connection_id, request.room_id, interval_seconds=interval, now=call.now
    ):
        count(metric_names.TYPING_DROPPED)
        return
    rooms.typing(
        call.caller,
        request.room_id,
        notifier=call.notifier,
        verified_only=call.settings.require_verified_sender,
    )


ROUTES = {
    route_keys.CREATE_ROOM: create_room,
    route_keys.JOIN_ROOM: join_room,
    route_keys.LEAVE_ROOM: leave_room,
    route_keys.SEND_MESSAGE: send_message,
    route_keys.EDIT_MESSAGE: edit_message,
    route_keys.DELETE_MESSAGE: delete_message,
    route_keys.MARK_READ: mark_read,
    route_keys.TYPING: typing,
}

# Parsed once, when Lambda imports this module (tests re-read it after changing the environment).
SETTINGS = load_settings(__name__)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return serve(event, ROUTES, settings=SETTINGS, expiry_exempt=frozenset())
