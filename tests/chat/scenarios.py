"""One scenario per action of the route functions and per FanoutFunction job, run as API Gateway and
Lambda run them, each in a table of its own, with the DynamoDB calls it makes recorded per function.

A scenario prepares what its action needs (users, connections, a room), then `act()` delivers the
action's event to the function that owns the route, with FanoutFunction's events held until the
route has answered; `settle()` then runs them. The calls made during `act()` belong to the route's
function, those made during `settle()` to FanoutFunction (the functions' roles are compared with
them in test_table_permissions.py; test_fault_matrix.py fails each of them in turn).
"""

from __future__ import annotations

import functools
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from chat import dispatch
from chat.dal import client as dal_client
from chat.dal import keys
from chat.dal import messages as messages_dal
from chat.dispatch import FanoutJob
from chat.handlers import broadcast, direct, lifecycle
from chat.models.domain import Message

import route_keys
from local_stack.moto_service import MotoServer
from tests.chat.baseline import BASELINE
from tests.chat.harness import FUNCTIONS, ClientConnection, FunctionEnvironment, LambdaContext, User
from tests.support.chat_table import create_table, dynamodb
from tests.support.connections_server import ConnectionsServer
from tests.support.dynamodb_faults import SERVER_ERROR, Call, failing, no_backoff, recorded_calls
from tests.support.jwks_server import JwksServer
from tests.support.lambda_server import LambdaServer
from tests.support.tokens import TokenIssuer

# The stack's construct id of the function whose handler serves each route (stacks/functions.py).
FUNCTION_OF_HANDLER = {
    lifecycle.handler: "LifecycleFunction",
    direct.handler: "DirectFunction",
    broadcast.handler: "BroadcastFunction",
}
FANOUT = "FanoutFunction"
FANOUT_JOB = "fanout job"


def function_of(route_key: str) -> str:
    if route_key in lifecycle.ROUTES:
        return FUNCTION_OF_HANDLER[lifecycle.handler]
    return FUNCTION_OF_HANDLER[FUNCTIONS[route_key]]


@dataclass(frozen=True)
class Servers:
    moto: MotoServer
    connections: ConnectionsServer
    lambda_: LambdaServer
    env: FunctionEnvironment


@dataclass
class Outcome:
    """What the client saw: a reply frame (None when the action sends none) or a handshake status."""

    route_key: str
    reply: dict[str, Any] | None = None
    status: int | None = None


@dataclass
class Run:
    """A prepared action: `act` delivers it (again, when called again: a client's retry)."""

    route_key: str
    act: Callable[[], Outcome]
    # Who must receive what once the action succeeded (at least once): (connection id, frame test).
    delivery: Callable[[Outcome], tuple[str, Callable[[dict[str, Any]], bool]] | None] = lambda _: None
    connection_id: str | None = None  # the connection a $connect opens
    closes: str | None = None  # a connection the action must close (DeleteConnection) once it succeeded


@dataclass
class Recording:
    """The operations (and transactions' item actions) each function called, in order."""

    calls: list[str] = field(default_factory=list)  # every call, route's first, then FanoutFunction's
    actions: dict[str, set[str]] = field(default_factory=dict)  # function -> IAM actions


@contextmanager
def fresh_table(servers: Servers) -> Iterator[Any]:
    """A table of its own for one case (so its invariants can be read from the whole table)."""
    name = f"chat-case-{uuid.uuid4().hex[:12]}"
    create_table(servers.moto.endpoint, name)
    servers.env.set(TABLE_NAME=name)
    table = admin_table(servers, name)
    try:
        yield table
    finally:
        dynamodb(servers.moto.endpoint).delete_table(TableName=name)


@functools.cache
def _resource(endpoint: str) -> Any:
    return boto3.resource("dynamodb", endpoint_url=endpoint)


def admin_table(servers: Servers, name: str) -> Any:
    """The table as a boto3 resource of the test's own (not the functions' client)."""
    return _resource(servers.moto.endpoint).Table(name)


def all_items(table: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    request: dict[str, Any] = {"ConsistentRead": True}
    while True:
        page = table.scan(**request)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def deliver(connection: ClientConnection, route_key: str, fields: dict[str, Any]) -> Outcome:
    """The frame's event to the route's function; no waiting for the fan-outs it queued."""
    if route_key in lifecycle.ROUTES:
        kind = route_key.removeprefix("$")
        response = lifecycle.handler(connection.event(kind, route_key), LambdaContext())
        return Outcome(route_key, status=int(response["statusCode"]))
    body = json.dumps({"action": route_key, **fields})  # `fields` may name another action ($default)
    response = connection.raw(body, route_key=route_key, settle_after=False)
    return Outcome(route_key, reply=json.loads(response["body"]) if "body" in response else None)


def iam_actions(operation: str, params: dict[str, Any]) -> set[str]:
    """The IAM actions one API call needs (a transaction: those of its items)."""
    if operation == "TransactWriteItems":
        kinds = {next(iter(item)) for item in params["TransactItems"]}
        return {
            f"dynamodb:{'ConditionCheckItem' if kind == 'ConditionCheck' else kind + 'Item'}"
            for kind in kinds
        }
    if operation == "TransactGetItems":
        return {"dynamodb:GetItem"}
    if "IndexName" in params:  # allowed on the index's ARN, not the table's
        return {f"dynamodb:{operation} index/{params['IndexName']}"}
    return {f"dynamodb:{operation}"}


@contextmanager
def recording(function: str, into: Recording) -> Iterator[None]:
    with recorded_calls(dal_client.low_level()) as calls:
        yield
    for operation, params in calls:
        into.calls.append(operation)
        into.actions.setdefault(function, set()).update(iam_actions(operation, params))


def perform(run: Run, servers: Servers, into: Recording | None = None) -> Outcome:
    """Deliver the action with FanoutFunction's events held, then let them run."""
    record = into if into is not None else Recording()
    function = FANOUT if run.route_key == FANOUT_JOB else function_of(run.route_key)
    with servers.lambda_.held(), recording(function, record):
        outcome = run.act()
    with recording(FANOUT, record):
        servers.lambda_.drain()
    return outcome


# A scenario's clean run, once per session: the fault matrix records it, the permission test reuses it.
CLEAN_RUNS: dict[str, Recording] = {}


def clean_recording(name: str, servers: Servers) -> Recording:
    if name not in CLEAN_RUNS:
        with fresh_table(servers):
            perform(SCENARIOS[name](servers), servers, CLEAN_RUNS.setdefault(name, Recording()))
    return CLEAN_RUNS[name]


# -- the scenarios -------------------------------------------------------------------------------


def _pair(
    servers: Servers, *others: User, message: bool = False
) -> tuple[ClientConnection, ClientConnection, str]:
    """Alice and Bob, connected, in a room (with `others`, and Alice's message if asked); settled.

    They all have rooms counters already (as users who left every room they were in), so the
    room costs no recount (seven DynamoDB calls fewer in every case). The recount of a user without a
    counter is failed in createRoom's own scenario (its third member has none)."""
    a, b = User().connect(), User().connect()
    for user in (a.user, b.user, *others):
        admin_table(servers, dal_client.table_name()).put_item(
            Item={"PK": f"USER#{user.user_id}", "SK": "ROOMS", "rooms": 0}
        )
    member_ids = [b.user.user_id, *(other.user_id for other in others)]
    room_id = a.send("createRoom", name="faults", memberIds=member_ids)["room"]["roomId"]
    if message:
        a.send("sendMessage", roomId=room_id, content="before", clientMessageId="m-0")
    return a, b, room_id


def _frame_run(route_key: str, fields: Callable[[str], dict[str, Any]]):
    def prepare(servers: Servers) -> Run:
        a, _, room_id = _pair(servers)
        return Run(route_key, lambda: deliver(a, route_key, fields(room_id)))

    return prepare


def _mark_read(servers: Servers) -> Run:
    """Bob reads Alice's message: his position moves, and the room hears of it."""
    _, b, room_id = _pair(servers, message=True)
    return Run(route_keys.MARK_READ, lambda: deliver(b, route_keys.MARK_READ, {"roomId": room_id, "seq": 1}))


def _send_message(servers: Servers) -> Run:
    a, b, room_id = _pair(servers)

    def delivery(outcome: Outcome):
        message_id = (outcome.reply or {}).get("messageId")
        return (
            b.connection_id,
            lambda frame: frame.get("type") == "message" and frame["messageId"] == message_id,
        )

    return Run(
        route_keys.SEND_MESSAGE,
        lambda: deliver(
            a, route_keys.SEND_MESSAGE, {"roomId": room_id, "content": "hi", "clientMessageId": "m-1"}
        ),
        delivery,
    )


def _message_change(route_key: str, frame_type: str, fields: dict[str, Any], *, later: bool = False):
    """Alice changes her message (seq 1; with `later`, a second message is the room's last): Bob hears it."""

    def prepare(servers: Servers) -> Run:
        a, b, room_id = _pair(servers, message=True)
        if later:
            a.send("sendMessage", roomId=room_id, content="after", clientMessageId="m-2")

        def delivery(outcome: Outcome):
            return b.connection_id, lambda frame: frame.get("type") == frame_type and frame["seq"] == 1

        return Run(
            route_key, lambda: deliver(a, route_key, {"roomId": room_id, "seq": 1, **fields}), delivery
        )

    return prepare


def _send_reply_with_mentions(servers: Servers) -> Run:
    """Bob answers Alice's message and names her: the parent and her membership are read with his,
    and her unread-mention count is written after the store."""
    a, b, room_id = _pair(servers, message=True)
    fields = {"roomId": room_id, "content": "yes", "replyTo": 1, "mentions": [a.user.user_id]}

    def delivery(outcome: Outcome):
        seq = (outcome.reply or {}).get("seq")
        return a.connection_id, lambda frame: frame.get("type") == "message" and frame["seq"] == seq

    fields["clientMessageId"] = "m-1"
    return Run(route_keys.SEND_MESSAGE, lambda: deliver(b, route_keys.SEND_MESSAGE, fields), delivery)


def _delete_mentioning(servers: Servers) -> Run:
    """Alice deletes her message that named Bob: his unread-mention count loses it."""
    a, b, room_id = _pair(servers)
    a.send("sendMessage", roomId=room_id, content="@bob", mentions=[b.user.user_id], clientMessageId="m-0")

    def delivery(outcome: Outcome):
        return b.connection_id, lambda frame: frame.get("type") == "messageDeleted" and frame["seq"] == 1

    fields = {"roomId": room_id, "seq": 1}
    return Run(route_keys.DELETE_MESSAGE, lambda: deliver(a, route_keys.DELETE_MESSAGE, fields), delivery)


def _replies_read(route_key: str):
    def prepare(servers: Servers) -> Run:
        """A page whose messages (or the room's last one) answer another: the parents are read."""
        a, b, room_id = _pair(servers, message=True)
        b.send("sendMessage", roomId=room_id, content="yes", replyTo=1, clientMessageId="m-1")
        fields = {"roomId": room_id} if route_key == route_keys.GET_MESSAGES else {}
        return Run(route_key, lambda: deliver(a, route_key, fields))

    return prepare


def _create_room(servers: Servers) -> Run:
    a, b, _ = _pair(servers)
    fields = {"name": "new", "memberIds": [b.user.user_id, User().user_id]}
    return Run(route_keys.CREATE_ROOM, lambda: deliver(a, route_keys.CREATE_ROOM, fields))


def _create_room_idempotent(servers: Servers) -> Run:
    """With a clientRoomId: its record is written with the reservations (a retry finds it). Members
    with counters only: the recount of a user without one is createRoom's scenario."""
    a, b, _ = _pair(servers)
    fields = {"name": "new", "memberIds": [b.user.user_id], "clientRoomId": "r-1"}
    return Run(route_keys.CREATE_ROOM, lambda: deliver(a, route_keys.CREATE_ROOM, fields))


def _create_room_answered_again(servers: Servers) -> Run:
    """A retry of a clientRoomId whose room was made: the record and the room are read, nothing written."""
    a, b, _ = _pair(servers)
    fields = {"name": "again", "memberIds": [b.user.user_id], "clientRoomId": "r-1"}
    a.send(route_keys.CREATE_ROOM, **fields)
    return Run(route_keys.CREATE_ROOM, lambda: deliver(a, route_keys.CREATE_ROOM, fields))


def _create_room_completed(servers: Servers) -> Run:
    """A retry of a clientRoomId whose first attempt crashed after its reservations: the room's
    transaction failed, and so did giving the reservations back (the code's own path, made to fail),
    so the retry writes the room under the places already reserved."""
    a, b, _ = _pair(servers)
    fields = {"name": "crashed", "memberIds": [b.user.user_id], "clientRoomId": "r-1"}
    client = dal_client.low_level()
    # TransactWriteItems #1 reserves (with the record), #2 is the room, #3 gives the places back.
    with (
        no_backoff(),
        failing(client, Call("TransactWriteItems", 2), SERVER_ERROR),
        failing(client, Call("TransactWriteItems", 3), SERVER_ERROR),
    ):
        first = deliver(a, route_keys.CREATE_ROOM, fields)
    assert (first.reply or {}).get("code") == "INTERNAL_ERROR", first
    return Run(route_keys.CREATE_ROOM, lambda: deliver(a, route_keys.CREATE_ROOM, fields))


def _join_room(servers: Servers) -> Run:
    a, b, _ = _pair(servers)
    room_id = a.send("createRoom", name="open", open=True)["room"]["roomId"]
    return Run(route_keys.JOIN_ROOM, lambda: deliver(b, route_keys.JOIN_ROOM, {"roomId": room_id}))


def _reauth(issue_token: Callable[[User], str]):
    def prepare(servers: Servers) -> Run:
        """A user whose session ended, in two rooms: the record, the map and both member items."""
        user = User(token_expires_at=int(time.time()) - 5)
        connection = user.connect()
        other = User().connect()
        for name in ("one", "two"):
            other.send("createRoom", name=name, memberIds=[user.user_id])
        return Run(
            route_keys.REAUTH, lambda: deliver(connection, route_keys.REAUTH, {"idToken": issue_token(user)})
        )

    return prepare


def _list_rooms_next_page(servers: Servers) -> Run:
    """The second page of Alice's three rooms, two a page: the cursor's Query and its rooms."""
    a, b, _ = _pair(servers)
    for name in ("two", "three"):
        a.send("createRoom", name=name, memberIds=[b.user.user_id])
    first = a.send(route_keys.LIST_ROOMS, limit=2)
    assert first is not None and first["cursor"] is not None, first
    fields = {"limit": 2, "cursor": first["cursor"]}
    return Run(route_keys.LIST_ROOMS, lambda: deliver(a, route_keys.LIST_ROOMS, fields))


def _get_messages_two_reads(servers: Servers) -> Run:
    """A page of more messages than the first Query reads (chat.dal.messages.FIRST_READ): two Queries.

    The history is written as sendMessage stores it (its items, the room's seq, Alice's read
    position), without sending it: 17 sends would cost each of this scenario's cases half a second.
    """
    a, _, room_id = _pair(servers)
    table = admin_table(servers, dal_client.table_name())
    count = messages_dal.FIRST_READ + 1
    with table.batch_writer() as batch:
        for seq in range(1, count + 1):
            message = Message(
                room_id, str(uuid.uuid4()), seq, a.user.user_id, f"m{seq}", "2026-12-01T00:00:00.000Z"
            )
            batch.put_item(
                Item={"PK": f"ROOM#{room_id}", "SK": f"MSG#{seq:015d}", **messages_dal.message_item(message)}
            )
    table.update_item(
        Key={"PK": f"ROOM#{room_id}", "SK": "ROOM"},
        UpdateExpression="SET seq = :n",
        ExpressionAttributeValues={":n": count},
    )
    table.update_item(
        Key={"PK": f"USER#{a.user.user_id}", "SK": f"ROOM#{room_id}"},
        UpdateExpression="SET lastReadSeq = :n",
        ExpressionAttributeValues={":n": count},
    )
    return Run(route_keys.GET_MESSAGES, lambda: deliver(a, route_keys.GET_MESSAGES, {"roomId": room_id}))


def _connect(servers: Servers) -> Run:
    _, b, _ = _pair(servers)
    b.disconnect()  # Bob comes online again: presence to Alice
    connection = ClientConnection(b.user, f"{uuid.uuid4().hex[:12]}=")
    return Run(
        route_keys.CONNECT,
        lambda: deliver(connection, route_keys.CONNECT, {}),
        connection_id=connection.connection_id,
    )


def _disconnect(servers: Servers) -> Run:
    _, b, _ = _pair(servers)
    return Run(route_keys.DISCONNECT, lambda: deliver(b, route_keys.DISCONNECT, {}))


def _disconnect_again(servers: Servers) -> Run:
    """A repeated $disconnect (API Gateway may deliver it twice): its records are gone already."""
    _, b, _ = _pair(servers)
    b.disconnect()
    return Run(route_keys.DISCONNECT, lambda: deliver(b, route_keys.DISCONNECT, {}))


def _room_job(
    servers: Servers,
    a: ClientConnection,
    b: ClientConnection,
    room_id: str,
    *,
    member_count: int | None = None,
) -> Run:
    """A message's room job from Alice, which Bob (live) must receive."""
    frame = {
        "type": "message",
        "roomId": room_id,
        "messageId": str(uuid.uuid4()),
        "seq": 1,
        "senderId": a.user.user_id,
        "content": "job",
        "createdAt": "2026-12-01T00:00:00.000Z",
        "displayName": "a",
    }
    job = FanoutJob(
        frame=frame, room_id=room_id, except_connection=a.connection_id, member_count=member_count
    )

    def act() -> Outcome:
        """Queued as sendMessage queues it: in the FIFO queue, the room's group (room_order's reads
        and writes of the watermark are failed too)."""
        dispatch.enqueue(os.environ["FANOUT_QUEUE_URL"], job)
        return Outcome(FANOUT_JOB)

    def delivery(_: Outcome) -> tuple[str, Callable[[dict[str, Any]], bool]]:
        return b.connection_id, lambda received: received.get("messageId") == frame["messageId"]

    return Run(FANOUT_JOB, act, delivery)


def _fanout_job(servers: Servers) -> Run:
    """A room job meeting a live member, and a member whose only connection is gone (410) and whose
    records a crash already removed (a documented state): forgetting it takes the member offline."""
    carol = User()
    a, b, room_id = _pair(servers, carol)
    gone = carol.connect()
    table = admin_table(servers, dal_client.table_name())
    table.delete_item(Key={"PK": f"CONN#{gone.connection_id}", "SK": "CONN"})
    table.update_item(
        Key={"PK": f"USER#{carol.user_id}", "SK": "CONNS"},
        UpdateExpression="REMOVE conns.#g",
        ExpressionAttributeNames={"#g": gone.connection_id},
    )
    servers.connections.close(gone.connection_id)
    return _room_job(servers, a, b, room_id)


def _fanout_job_session_ended(servers: Servers) -> Run:
    """A room job meeting Carol, whose session ended: her record's notice write, then `sessionExpired`,
    which she must get (once the write is applied, even if its reply was lost)."""
    carol = User(token_expires_at=int(time.time()) - 5)
    a, b, room_id = _pair(servers, carol)
    ended = carol.connect()
    run = _room_job(servers, a, b, room_id)
    run.delivery = lambda _: (ended.connection_id, lambda frame: frame.get("type") == "sessionExpired")
    return run


def _fanout_job_past_the_grace(servers: Servers) -> Run:
    """A room job meeting Carol, told already and past the grace: DeleteConnection, then her records go."""
    grace = int(BASELINE["SESSION_GRACE_SECONDS"])
    carol = User(token_expires_at=int(time.time()) - grace - 5)
    a, b, room_id = _pair(servers, carol)
    ended = carol.connect()
    a.send("typing", roomId=room_id)  # a fan-out that tells her (typing's frame is best-effort)
    assert any(f["type"] == "sessionExpired" for f in servers.connections.frames(ended.connection_id))
    run = _room_job(servers, a, b, room_id)
    run.closes = ended.connection_id
    return run


def _fanout_job_big_room(servers: Servers) -> Run:
    """A message's room job in a room it calls big (more members than PRESENCE_MAX_MEMBERS): it reads
    the online index, whose shards list Bob, and Carol with no entry (a `$disconnect` that stopped
    between its two updates), whom it takes out of the index."""
    carol = User()
    a, b, room_id = _pair(servers, carol)
    table = admin_table(servers, dal_client.table_name())
    table.put_item(
        Item={"PK": f"ROOM#{room_id}", "SK": "DELIVERED", "seq": 0, "skipped": [], "indexed": True}
    )
    table.update_item(
        Key={"PK": f"ROOM#{room_id}", "SK": f"MEMBER#{carol.user_id}"},
        UpdateExpression="SET #k = :k",
        ExpressionAttributeNames={"#k": keys.ONLINE_KEY},
        ExpressionAttributeValues={":k": keys.online_key(room_id, carol.user_id)},
    )
    return _room_job(servers, a, b, room_id, member_count=int(BASELINE["PRESENCE_MAX_MEMBERS"]) + 1)


def _scenarios(issue_token: Callable[[User], str]) -> dict[str, Callable[[Servers], Run]]:
    """Scenario name -> its preparation; every route key of the three route functions has one."""
    room = lambda room_id: {"roomId": room_id}  # noqa: E731
    return {
        route_keys.CONNECT: _connect,
        route_keys.DISCONNECT: _disconnect,
        "$disconnect (again)": _disconnect_again,
        route_keys.DEFAULT: _frame_run(route_keys.DEFAULT, lambda _: {"action": "teleport"}),
        route_keys.PING: _frame_run(route_keys.PING, lambda _: {}),
        route_keys.WHOAMI: _frame_run(route_keys.WHOAMI, lambda _: {}),
        route_keys.REAUTH: _reauth(issue_token),
        route_keys.LIST_ROOMS: _frame_run(route_keys.LIST_ROOMS, lambda _: {}),
        "listRooms (next page)": _list_rooms_next_page,
        route_keys.GET_MESSAGES: _frame_run(route_keys.GET_MESSAGES, room),
        "getMessages (two reads)": _get_messages_two_reads,
        route_keys.GET_MEMBERS: _frame_run(route_keys.GET_MEMBERS, room),
        route_keys.CREATE_ROOM: _create_room,
        "createRoom (clientRoomId)": _create_room_idempotent,
        "createRoom (clientRoomId, answered again)": _create_room_answered_again,
        "createRoom (clientRoomId, completing a crashed attempt)": _create_room_completed,
        route_keys.JOIN_ROOM: _join_room,
        route_keys.LEAVE_ROOM: _frame_run(route_keys.LEAVE_ROOM, room),
        route_keys.SEND_MESSAGE: _send_message,
        "sendMessage (a reply with mentions)": _send_reply_with_mentions,
        "deleteMessage (its mentions uncounted)": _delete_mentioning,
        "getMessages (replies)": _replies_read(route_keys.GET_MESSAGES),
        "listRooms (a reply last)": _replies_read(route_keys.LIST_ROOMS),
        route_keys.EDIT_MESSAGE: _message_change(
            route_keys.EDIT_MESSAGE, "messageEdited", {"content": "fixed"}
        ),
        route_keys.DELETE_MESSAGE: _message_change(route_keys.DELETE_MESSAGE, "messageDeleted", {}),
        "deleteMessage (a later message is the last)": _message_change(
            route_keys.DELETE_MESSAGE, "messageDeleted", {}, later=True
        ),
        route_keys.MARK_READ: _mark_read,
        route_keys.TYPING: _frame_run(route_keys.TYPING, room),
        FANOUT_JOB: _fanout_job,
        "fanout job (a session ended: told)": _fanout_job_session_ended,
        "fanout job (past the grace: closed)": _fanout_job_past_the_grace,
        "fanout job (a big room: the online index)": _fanout_job_big_room,
    }


ISSUER = TokenIssuer()
SCENARIOS = _scenarios(lambda user: ISSUER.id_token(sub=user.user_id, username=user.username, lifetime=1800))


@pytest.fixture(name="servers")
def servers_fixture(
    moto_server: MotoServer,
    connections_server: ConnectionsServer,
    lambda_server: LambdaServer,
    function_env: FunctionEnvironment,
) -> Iterator[Servers]:
    """What the scenarios run against, with the reauth verifier's keys served over loopback."""
    with JwksServer(ISSUER.jwks()) as jwks:
        function_env.use_verifier(jwks.url)
        yield Servers(moto_server, connections_server, lambda_server, function_env)
