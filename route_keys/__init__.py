"""Every route key of the WebSocket API, named once, by the function that serves it.

The stack creates exactly these routes (stacks/websocket_api.py), each handler dispatches on its
group (lambdas/chat/handlers/), an unknown action's error lists ACTIONS, and the tests hold the
template, docs/ARCHITECTURE.md and docs/asyncapi.yaml to them. Like `metric_names/`, this package is
copied into the route functions' bundle and imported from the repository root by the stack; it
imports nothing.
"""

from __future__ import annotations

# The routes API Gateway itself defines.
CONNECT = "$connect"
DISCONNECT = "$disconnect"
DEFAULT = "$default"  # a frame whose `action` has no route of its own

# Protocol actions (a frame's `action`, the API's route selection expression).
CREATE_ROOM = "createRoom"
JOIN_ROOM = "joinRoom"
LEAVE_ROOM = "leaveRoom"
LIST_ROOMS = "listRooms"
SEND_MESSAGE = "sendMessage"
EDIT_MESSAGE = "editMessage"
DELETE_MESSAGE = "deleteMessage"
GET_MESSAGES = "getMessages"
GET_MEMBERS = "getMembers"
MARK_READ = "markRead"
TYPING = "typing"
PING = "ping"
WHOAMI = "whoami"
REAUTH = "reauth"

# Every protocol action, in the order docs/PROTOCOL.md lists them (and UNKNOWN_ACTION errors do).
ACTIONS: tuple[str, ...] = (
    CREATE_ROOM,
    JOIN_ROOM,
    LEAVE_ROOM,
    LIST_ROOMS,
    SEND_MESSAGE,
    EDIT_MESSAGE,
    DELETE_MESSAGE,
    GET_MESSAGES,
    GET_MEMBERS,
    MARK_READ,
    TYPING,
    PING,
    WHOAMI,
    REAUTH,
)

# By function (docs/ARCHITECTURE.md, "Functions, routes and handlers").
LIFECYCLE_ROUTES: tuple[str, ...] = (CONNECT, DISCONNECT)
DIRECT_ACTIONS: tuple[str, ...] = (PING, WHOAMI, REAUTH, LIST_ROOMS, GET_MESSAGES, GET_MEMBERS)
DIRECT_ROUTES: tuple[str, ...] = (DEFAULT, *DIRECT_ACTIONS)
BROADCAST_ROUTES: tuple[str, ...] = (
    CREATE_ROOM,
    JOIN_ROOM,
    LEAVE_ROOM,
    SEND_MESSAGE,
    EDIT_MESSAGE,
    DELETE_MESSAGE,
    MARK_READ,
    TYPING,
)
# Routes whose frames are served even after the connection's token expired (so a client can renew).
EXPIRY_EXEMPT: frozenset[str] = frozenset({DEFAULT, PING, REAUTH})

ROUTES_BY_FUNCTION: dict[str, tuple[str, ...]] = {
    "LifecycleFunction": LIFECYCLE_ROUTES,
    "DirectFunction": DIRECT_ROUTES,
    "BroadcastFunction": BROADCAST_ROUTES,
}
