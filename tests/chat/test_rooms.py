"""createRoom, joinRoom, leaveRoom, listRooms, markRead and typing."""

from __future__ import annotations

from tests.chat.harness import ClientConnection, User, dynamodb_requests, new_id

WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}


def frames_of(server, connection: ClientConnection, kind: str) -> list[dict]:
    return [frame for frame in server.frames(connection.connection_id) if frame["type"] == kind]


def make_room(owner: ClientConnection, *members: User, open_: bool = False, name: str = "room") -> str:
    reply = owner.send("createRoom", name=name, memberIds=[m.user_id for m in members], open=open_)
    return reply["room"]["roomId"]


def test_create_room_replies_room_and_tells_every_members_connections(chat_env):
    alice, bob = User(), User()
    a, a2 = alice.connect(), alice.connect()
    b1, b2 = bob.connect(), bob.connect()

    reply = a.send("createRoom", name="launch", memberIds=[bob.user_id, bob.user_id], requestId="c-1")

    room = reply["room"]
    assert reply["type"] == "room" and reply["requestId"] == "c-1"
    assert room["name"] == "launch" and room["open"] is False and room["createdBy"] == alice.user_id
    assert room["memberIds"] == sorted([alice.user_id, bob.user_id])
    assert room["createdAt"].endswith("Z")
    for connection in (a2, b1, b2):
        assert frames_of(chat_env, connection, "room") == [{"type": "room", "room": room}]
    assert frames_of(chat_env, a, "room") == []  # the caller has its direct reply


def test_create_room_validates_name_member_ids_and_open(chat_env):
    connection = User().connect()
    cases = [
        {},
        {"name": ""},
        {"name": "   "},
        {"name": "\u200b"},  # only invisible characters: zero-width space, word joiner, BOM
        {"name": "\u2060\ufeff\u200b"},
        {"name": "\u0301\u0301"},  # combining marks with nothing to combine with
        {"name": "invoice\u202efdp.exe"},  # a right-to-left override: reads as "invoiceexe.pdf"
        {"name": "a\u2066b\u2069"},  # an isolate
        {"name": "x" * 101},
        {"name": 7},
        {"name": "ok", "memberIds": "bob"},
        {"name": "ok", "memberIds": [1]},
        {"name": "ok", "memberIds": [""]},
        {"name": "ok", "memberIds": [new_id() for _ in range(99)]},
        {"name": "ok", "open": "yes"},
    ]
    for fields in cases:
        with dynamodb_requests() as sent:
            reply = connection.send("createRoom", **fields)
        assert reply["code"] == "BAD_REQUEST", fields
        assert reply["action"] == "createRoom"
        assert not WRITES & set(sent)


def test_room_names_in_any_script_and_with_emoji_are_accepted(chat_env):
    connection = User().connect()
    for name in ("café", "日本語の部屋", "👍", "e\u0301", "שלום", "a\u200eb"):  # U+200E: a mark, allowed
        reply = connection.send("createRoom", name=name)
        assert reply["type"] == "room" and reply["room"]["name"] == name, (name, reply)


def test_create_room_accepts_the_largest_member_list_in_one_transaction(chat_env):
    user = User()
    connection = user.connect()
    others = [new_id() for _ in range(98)]

    reply = connection.send("createRoom", name="big", memberIds=[user.user_id, *others])

    assert len(reply["room"]["memberIds"]) == 99
    with dynamodb_requests() as sent:
        too_many = connection.send("createRoom", name="big", memberIds=[*others, new_id()])
    assert too_many["code"] == "BAD_REQUEST"
    assert not WRITES & set(sent)


def test_join_an_open_room_tells_the_members(chat_env):
    alice, bob = User(), User()
    a, b, b_other = alice.connect(), bob.connect(), bob.connect()
    room_id = make_room(a, open_=True)

    assert b.send("joinRoom", roomId=room_id, requestId="j") == {
        "type": "joined",
        "roomId": room_id,
        "requestId": "j",
    }

    event = {"type": "memberJoined", "roomId": room_id, "userId": bob.user_id, "displayName": bob.username}
    assert frames_of(chat_env, a, "memberJoined") == [event]
    assert frames_of(chat_env, b_other, "memberJoined") == [event]
    a.send("sendMessage", roomId=room_id, content="welcome")
    assert [f["content"] for f in frames_of(chat_env, b, "message")] == ["welcome"]
    assert [f["content"] for f in frames_of(chat_env, b_other, "message")] == ["welcome"]


def test_join_again_is_a_no_op(chat_env):
    alice, bob = User(), User()
    a, b = alice.connect(), bob.connect()
    room_id = make_room(a, bob)

    assert b.send("joinRoom", roomId=room_id) == {"type": "joined", "roomId": room_id}
    assert frames_of(chat_env, a, "memberJoined") == []


def test_join_a_closed_room_without_invitation_is_forbidden(chat_env):
    a, b = User().connect(), User().connect()
    room_id = make_room(a)

    with dynamodb_requests() as sent:
        reply = b.send("joinRoom", roomId=room_id)

    assert reply["code"] == "FORBIDDEN" and reply["retryable"] is False
    assert not WRITES & set(sent)
    assert b.send("sendMessage", roomId=room_id, content="let me in")["code"] == "NOT_A_MEMBER"


def test_join_an_unknown_room_is_room_not_found(chat_env):
    reply = User().connect().send("joinRoom", roomId="no-such-room")
    assert reply["code"] == "ROOM_NOT_FOUND"


def test_leave_tells_the_others_and_the_callers_other_connections(chat_env, table):
    alice, bob = User(), User()
    a = alice.connect()
    b, b_other = bob.connect(), bob.connect()
    room_id = make_room(a, bob)

    assert b.send("leaveRoom", roomId=room_id) == {"type": "left", "roomId": room_id}

    event = {"type": "memberLeft", "roomId": room_id, "userId": bob.user_id}
    assert frames_of(chat_env, a, "memberLeft") == [event]
    assert frames_of(chat_env, b_other, "memberLeft") == [event]
    room = table.get_item(Key={"PK": f"ROOM#{room_id}", "SK": "ROOM"})["Item"]
    assert room["memberCount"] == 1 and room["onlineCount"] == 1
    assert "Item" not in table.get_item(Key={"PK": f"ROOM#{room_id}", "SK": f"MEMBER#{bob.user_id}"})
    assert "Item" not in table.get_item(Key={"PK": f"USER#{bob.user_id}", "SK": f"ROOM#{room_id}"})
    assert b.send("leaveRoom", roomId=room_id)["code"] == "NOT_A_MEMBER"
    assert b.send("sendMessage", roomId=room_id, content="still here?")["code"] == "NOT_A_MEMBER"
    assert b.send("joinRoom", roomId=room_id)["code"] == "FORBIDDEN"  # closed, and no longer listed
    assert all(room["roomId"] != room_id for room in b.send("listRooms")["items"])


def test_leave_an_unknown_room_is_room_not_found(chat_env):
    assert User().connect().send("leaveRoom", roomId="nope")["code"] == "ROOM_NOT_FOUND"


def test_list_rooms_shows_last_message_read_position_and_unread_count(chat_env):
    alice, bob = User(), User()
    a, b = alice.connect(), bob.connect()
    quiet = make_room(a, bob, name="quiet")
    busy = make_room(a, bob, name="busy")
    for text in ("one", "two", "three"):
        a.send("sendMessage", roomId=busy, content=text)
    b.send("markRead", roomId=busy, seq=1)

    reply = b.send("listRooms", requestId="l")

    assert reply["type"] == "rooms" and reply["requestId"] == "l"
    by_id = {item["roomId"]: item for item in reply["items"]}
    assert [item["roomId"] for item in reply["items"]][:2] == [busy, quiet]  # most recent activity first
    assert by_id[quiet] == {
        "roomId": quiet,
        "name": "quiet",
        "open": False,
        "lastMessage": None,
        "lastReadSeq": 0,
        "unreadCount": 0,
        "mentionCount": 0,
        "memberCount": 2,
        "onlineCount": 2,
    }
    assert by_id[busy]["lastMessage"]["content"] == "three"
    assert by_id[busy]["lastMessage"]["seq"] == 3
    assert by_id[busy]["lastReadSeq"] == 1
    assert by_id[busy]["unreadCount"] == 2
    mine = {item["roomId"]: item for item in a.send("listRooms")["items"]}
    assert mine[busy]["unreadCount"] == 0  # sending moves the sender's read position


def test_mark_read_moves_forward_only_and_tells_the_room(chat_env):
    alice, bob = User(), User()
    a, b = alice.connect(), bob.connect()
    room_id = make_room(a, bob)
    for text in ("one", "two"):
        a.send("sendMessage", roomId=room_id, content=text)

    assert b.send("markRead", roomId=room_id, seq=2) == {"type": "readMarked", "roomId": room_id, "seq": 2}
    assert b.send("markRead", roomId=room_id, seq=1) == {"type": "readMarked", "roomId": room_id, "seq": 2}

    assert frames_of(chat_env, a, "read") == [
        {"type": "read", "roomId": room_id, "userId": bob.user_id, "displayName": bob.username, "seq": 2}
    ]


def test_mark_read_rejects_a_seq_beyond_the_last_message_and_non_members(chat_env):
    alice = User()
    a, stranger = alice.connect(), User().connect()
    room_id = make_room(a)

    assert a.send("markRead", roomId=room_id, seq=5)["code"] == "BAD_REQUEST"
    assert a.send("markRead", roomId=room_id, seq=-1)["code"] == "BAD_REQUEST"
    assert a.send("markRead", roomId=room_id, seq=True)["code"] == "BAD_REQUEST"
    assert a.send("markRead", roomId=room_id)["code"] == "BAD_REQUEST"
    assert stranger.send("markRead", roomId=room_id, seq=0)["code"] == "NOT_A_MEMBER"
    assert stranger.send("markRead", roomId="nope", seq=0)["code"] == "ROOM_NOT_FOUND"


def test_typing_reaches_the_others_only_and_has_no_reply(chat_env):
    alice, bob = User(), User()
    a, a_other, b = alice.connect(), alice.connect(), bob.connect()
    room_id = make_room(a, bob)

    with dynamodb_requests() as sent:
        assert a.send("typing", roomId=room_id) is None

    assert not WRITES & set(sent)
    assert frames_of(chat_env, b, "typing") == [
        {"type": "typing", "roomId": room_id, "userId": alice.user_id, "displayName": alice.username}
    ]
    assert frames_of(chat_env, a_other, "typing") == []
    assert frames_of(chat_env, a, "typing") == []


def test_typing_errors(chat_env):
    a, stranger = User().connect(), User().connect()
    room_id = make_room(a)

    assert stranger.send("typing", roomId=room_id)["code"] == "NOT_A_MEMBER"
    assert a.send("typing", roomId="nope")["code"] == "ROOM_NOT_FOUND"
    assert a.send("typing")["code"] == "BAD_REQUEST"
