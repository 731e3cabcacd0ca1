"""$connect / $disconnect, ping liveness, token expiry and whoami."""

from __future__ import annotations

import time

from tests.chat.harness import ClientConnection, User, dynamodb_requests, new_connection_id

WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}


def connection_items(table, connection: ClientConnection) -> tuple[dict | None, int | None]:
    """The connection record, and when the connection ends in its user's connection map."""
    forward = table.get_item(Key={"PK": f"CONN#{connection.connection_id}", "SK": "CONN"}).get("Item")
    user_map = table.get_item(Key={"PK": f"USER#{connection.user.user_id}", "SK": "CONNS"}).get("Item")
    entry = (user_map or {}).get("conns", {}).get(connection.connection_id)
    return forward, (int(entry["ends"]) if entry is not None else None)


def member_connections(table, room_id: str, user: User) -> set[str]:
    item = table.get_item(Key={"PK": f"ROOM#{room_id}", "SK": f"MEMBER#{user.user_id}"})["Item"]
    return set(item["conns"])


def test_connect_records_the_connection_both_ways_with_a_ttl_past_two_hours(table):
    user = User()
    before = time.time()
    connection = user.connect()

    forward, reverse = connection_items(table, connection)

    assert forward["userId"] == user.user_id
    assert forward["username"] == user.username
    assert forward["email"] == user.email
    assert int(forward["tokenExpiresAt"]) == user.token_expires_at
    assert forward["displayName"] == user.username
    for expiry in (int(forward["ttl"]), reverse):
        assert before + 2 * 3600 < expiry <= time.time() + 3 * 3600


def test_disconnect_removes_both_records_and_is_idempotent(table):
    connection = User().connect()

    assert connection.disconnect() == {"statusCode": 200}
    assert connection_items(table, connection) == (None, None)
    assert connection.disconnect() == {"statusCode": 200}
    assert ClientConnection(User(), new_connection_id()).disconnect() == {"statusCode": 200}


def test_connect_without_authorizer_context_is_refused_and_writes_nothing(table):
    connection = ClientConnection(User(), new_connection_id())
    event = connection.event("connect", "$connect")
    del event["requestContext"]["authorizer"]
    from chat.handlers import lifecycle

    from tests.chat.harness import LambdaContext

    with dynamodb_requests() as sent:
        response = lifecycle.handler(event, LambdaContext())

    assert response["statusCode"] == 403
    assert sent == []
    assert connection_items(table, connection) == (None, None)


def test_connect_adds_the_connection_to_the_member_item_of_each_of_the_users_rooms(chat_env):
    alice, bob = User(), User()
    first = alice.connect()
    room_id = first.send("createRoom", name="team", memberIds=[bob.user_id])["room"]["roomId"]

    late = bob.connect()
    first.send("sendMessage", roomId=room_id, content="hello bob")

    assert [f["content"] for f in chat_env.frames(late.connection_id) if f["type"] == "message"] == [
        "hello bob"
    ]


def test_disconnect_removes_the_connection_from_its_member_items(chat_env, table):
    alice, bob = User(), User()
    a, b = alice.connect(), bob.connect()
    room_id = a.send("createRoom", name="team", memberIds=[bob.user_id])["room"]["roomId"]

    b.disconnect()

    assert member_connections(table, room_id, bob) == set()
    assert member_connections(table, room_id, alice) == {a.connection_id}


def test_ping_answers_pong_and_refreshes_liveness_at_most_once_per_interval(table):
    connection = User().connect()

    with dynamodb_requests() as first:
        assert connection.send("ping", requestId="p1") == {"type": "pong", "requestId": "p1"}
    with dynamodb_requests() as second:
        assert connection.send("ping") == {"type": "pong"}

    assert first == ["UpdateItem"]
    assert second == []
    forward, _ = connection_items(table, connection)
    assert forward["lastSeenAt"].endswith("Z")


def test_a_valid_token_costs_no_read(chat_env):
    connection = User().connect()

    with dynamodb_requests() as sent:
        connection.send("listRooms")

    assert "GetItem" not in sent


def test_after_the_token_expires_every_action_but_ping_and_reauth_gets_token_expired(chat_env):
    user = User(token_expires_at=int(time.time()) + 3600)
    connection = user.connect()
    room_id = connection.send("createRoom", name="r")["room"]["roomId"]
    user.token_expires_at = int(time.time()) - 1  # what the authorizer context says from now on
    # ... and what the connection record says (no reauth happened)
    connection.disconnect()
    connection = user.connect(connection.connection_id)

    frames = {
        "createRoom": {"name": "x"},
        "joinRoom": {"roomId": room_id},
        "leaveRoom": {"roomId": room_id},
        "listRooms": {},
        "sendMessage": {"roomId": room_id, "content": "hi"},
        "getMessages": {"roomId": room_id},
        "markRead": {"roomId": room_id, "seq": 0},
        "typing": {"roomId": room_id},
        "whoami": {},
    }
    for action, fields in frames.items():
        reply = connection.send(action, requestId=f"rq-{action}", **fields)
        assert reply["code"] == "TOKEN_EXPIRED", (action, reply)
        assert reply == {
            "type": "error",
            "code": "TOKEN_EXPIRED",
            "message": reply["message"],
            "retryable": False,
            "action": action,
            "requestId": f"rq-{action}",
        }
    assert connection.send("ping") == {"type": "pong"}
    assert connection.send("reauth")["code"] == "BAD_REQUEST"  # reauth is let through (to its validation)


def test_whoami_returns_the_identity_from_the_authorizer(chat_env):
    user = User(email=None)
    connection = user.connect()

    reply = connection.send("whoami", requestId="w")

    assert reply == {
        "type": "identity",
        "userId": user.user_id,
        "username": user.username,
        "connectionId": connection.connection_id,
        "expiresAt": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(user.token_expires_at)),
        "requestId": "w",
    }


def test_expired_connections_are_never_posted_to_and_are_forgotten(chat_env, table):
    """DynamoDB deletes expired items days late, and `$disconnect` is best effort: an entry whose
    connection has expired (in a user's map or a member item) is never posted to."""
    alice, bob = User(), User()
    a = alice.connect()
    in_map, in_room = new_connection_id(), new_connection_id()
    expired = int(time.time()) - 60
    table.put_item(
        Item={"PK": f"USER#{bob.user_id}", "SK": "CONNS", "conns": {in_map: expired}, "version": 1}
    )
    room_id = a.send("createRoom", name="r", memberIds=[bob.user_id])["room"]["roomId"]
    assert member_connections(table, room_id, bob) == set()
    table.update_item(
        Key={"PK": f"ROOM#{room_id}", "SK": f"MEMBER#{bob.user_id}"},
        UpdateExpression="SET conns.#c = :e",
        ExpressionAttributeNames={"#c": in_room},
        ExpressionAttributeValues={":e": expired},
    )

    a.send("sendMessage", roomId=room_id, content="hello")

    assert chat_env.attempts(in_map) == 0 and chat_env.attempts(in_room) == 0
    assert member_connections(table, room_id, bob) == set()  # the fan-out forgot it


def test_the_lifecycle_function_refuses_a_route_it_does_not_own(chat_env):
    from chat.handlers import lifecycle

    from tests.chat.harness import LambdaContext

    connection = ClientConnection(User(), new_connection_id())
    event = connection.event("message", "sendMessage")

    assert lifecycle.handler(event, LambdaContext()) == {"statusCode": 400}


def test_connect_and_disconnect_update_the_member_item_in_every_room_of_the_user(chat_env, table):
    alice, bob = User(), User()
    a = alice.connect()
    room_ids = [
        a.send("createRoom", name=f"r{i}", memberIds=[bob.user_id])["room"]["roomId"] for i in range(12)
    ]

    def indexed(connection: ClientConnection) -> list[bool]:
        return [connection.connection_id in member_connections(table, r, bob) for r in room_ids]

    b = bob.connect()
    assert indexed(b) == [True] * 12
    b.disconnect()
    assert indexed(b) == [False] * 12
