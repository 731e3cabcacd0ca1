"""The rooms-per-user cap: LIMIT_EXCEEDED for the creator, any listed member and a joiner, atomic
under concurrent creates, harmless after a crash, and counted on demand for users from before it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest
from botocore.exceptions import ReadTimeoutError
from chat.dal import client as dal_client
from chat.dal.room_counts import RESERVATION_SECONDS

from tests.chat.harness import User, dynamodb_requests, new_id, settle
from tests.chat.test_fanout import emitted_metrics, metric_total
from tests.chat.test_rooms import WRITES, frames_of, make_room


class Crash(BaseException):
    """The function's process stops here (nothing after it runs, no handler catches it)."""


@contextmanager
def failing(should_fail: Callable[[str, str], bool], error: BaseException) -> Iterator[None]:
    """Every DynamoDB request (each attempt) for which `should_fail(operation, body)` holds raises `error`."""

    def hook(request, **_) -> None:
        operation = request.headers["X-Amz-Target"].decode().split(".")[-1]
        body = request.body.decode() if isinstance(request.body, bytes) else str(request.body)
        if should_fail(operation, body):
            raise error

    events = dal_client.low_level().meta.events
    events.register("before-send.dynamodb", hook)
    try:
        yield
    finally:
        events.unregister("before-send.dynamodb", hook)


def room_write(operation: str, body: str) -> bool:
    """The transaction that writes the room item and the memberships."""
    return operation == "TransactWriteItems" and '"SK": {"S": "ROOM"}' in body


def counter(table, user_id: str) -> dict | None:
    return table.get_item(Key={"PK": f"USER#{user_id}", "SK": "ROOMS"}, ConsistentRead=True).get("Item")


def memberships(table, user_id: str) -> int:
    return table.query(
        KeyConditionExpression="PK = :pk AND begins_with(SK, :rooms)",
        ExpressionAttributeValues={":pk": f"USER#{user_id}", ":rooms": "ROOM#"},
        Select="COUNT",
        ConsistentRead=True,
    )["Count"]


def legacy_memberships(table, user_id: str, rooms: int) -> None:
    """`rooms` memberships written as the code before the counters left them: no ROOMS item."""
    with table.batch_writer() as batch:
        for _ in range(rooms):
            room_id = new_id()
            batch.put_item(
                Item={
                    "PK": f"USER#{user_id}", "SK": f"ROOM#{room_id}", "roomId": room_id, "name": "old",
                    "open": False, "joinedAt": "2026-11-01T00:00:00.000Z", "lastReadSeq": 0,
                }
            )  # fmt: skip


@pytest.fixture
def cap_of_3(function_env):
    function_env.set(MAX_ROOMS_PER_USER="3")
    return 3


def test_the_creator_at_the_cap_is_refused_and_nothing_is_written(chat_env, cap_of_3, table):
    alice, bob = User(), User()
    a, b = alice.connect(), bob.connect()
    for _ in range(3):
        make_room(a)

    with dynamodb_requests() as sent:
        refused = a.send("createRoom", name="fourth", memberIds=[bob.user_id], requestId="c4")

    assert refused["code"] == "LIMIT_EXCEEDED" and refused["retryable"] is False
    assert refused["message"] == "you are in 3 rooms, the most one user may be in: leave one first"
    assert refused["action"] == "createRoom" and refused["requestId"] == "c4"
    assert "TransactWriteItems" in sent and "BatchWriteItem" not in sent  # refused by the reservation
    assert memberships(table, alice.user_id) == 3 and counter(table, alice.user_id)["rooms"] == 3
    assert memberships(table, bob.user_id) == 0 and counter(table, bob.user_id)["rooms"] == 0
    assert frames_of(chat_env, b, "room") == []


def test_a_listed_member_at_the_cap_refuses_the_room_for_everyone(chat_env, cap_of_3, table):
    victim = User()
    v = victim.connect()
    for _ in range(3):
        make_room(User().connect(), victim)
    mallory, carol = User(), User()
    c = carol.connect()

    refused = mallory.connect().send("createRoom", name="spam", memberIds=[carol.user_id, victim.user_id])

    assert refused["code"] == "LIMIT_EXCEEDED"
    assert refused["message"] == f"user {victim.user_id!r} is in 3 rooms, the most one user may be in"
    assert [f["room"]["name"] for f in frames_of(chat_env, v, "room")] == ["room"] * 3
    assert frames_of(chat_env, c, "room") == []
    for user in (mallory, carol):  # all or none: nobody's counter moved
        assert counter(table, user.user_id)["rooms"] == 0 and memberships(table, user.user_id) == 0
    assert counter(table, victim.user_id)["rooms"] == 3


def test_a_joiner_at_the_cap_is_refused_until_it_leaves_a_room(chat_env, cap_of_3, table):
    alice = User()
    a = alice.connect()
    mine = [make_room(a) for _ in range(3)]
    lobby = make_room(User().connect(), open_=True)

    refused = a.send("joinRoom", roomId=lobby)

    assert refused["code"] == "LIMIT_EXCEEDED" and refused["retryable"] is False
    assert table.get_item(Key={"PK": f"ROOM#{lobby}", "SK": "ROOM"})["Item"]["memberCount"] == 1
    assert a.send("leaveRoom", roomId=mine[0])["type"] == "left"
    assert counter(table, alice.user_id)["rooms"] == 2
    assert a.send("joinRoom", roomId=lobby)["type"] == "joined"
    assert counter(table, alice.user_id)["rooms"] == 3 == memberships(table, alice.user_id)


def test_concurrent_creates_never_take_a_user_past_the_cap(chat_env, cap_of_3, table):
    victim = User()
    creators = [User().connect() for _ in range(8)]

    def create(connection):
        return connection.send("createRoom", name="race", memberIds=[victim.user_id], settle=False)

    with ThreadPoolExecutor(max_workers=8) as pool:
        replies = list(pool.map(create, creators))

    kinds = sorted(r["type"] if r["type"] != "error" else r["code"] for r in replies)
    assert kinds == ["LIMIT_EXCEEDED"] * 5 + ["room"] * 3
    assert memberships(table, victim.user_id) == 3 == counter(table, victim.user_id)["rooms"]
    # The victim's $connect costs one member-item update per room, bounded by the cap.
    settle()  # the creates' fan-outs have run: only the connect's own requests are counted
    with dynamodb_requests() as sent:
        victim.connect()
    assert sent.count("UpdateItem") <= 3 + 3  # its rooms, and the online counts where it came online


def test_a_room_write_that_fails_gives_the_reservations_back(chat_env, cap_of_3, table):
    alice, bob = User(), User()
    a = alice.connect()
    for _ in range(2):
        make_room(a)

    with failing(room_write, ReadTimeoutError(endpoint_url="dynamodb")):
        failed = a.send("createRoom", name="third", memberIds=[bob.user_id], clientRoomId="c-3")

    assert failed["code"] == "INTERNAL_ERROR" and failed["retryable"] is True
    assert counter(table, alice.user_id)["rooms"] == 2 and counter(table, bob.user_id)["rooms"] == 0
    retried = a.send("createRoom", name="third", memberIds=[bob.user_id], clientRoomId="c-3")
    assert retried["type"] == "room"
    assert memberships(table, alice.user_id) == 3 == counter(table, alice.user_id)["rooms"]


def test_a_crash_between_reservation_and_room_over_counts_harmlessly(chat_env, cap_of_3, table, capsys):
    alice = User()
    a = alice.connect()
    for _ in range(2):
        make_room(a)

    with failing(room_write, Crash()), pytest.raises(Crash):
        a.send("createRoom", name="lost")

    # The state DATA_MODEL.md lists: a counter one above the memberships, member items of no room.
    assert (counter(table, alice.user_id)["rooms"], memberships(table, alice.user_id)) == (3, 2)
    # Within RESERVATION_SECONDS the reservation may still be in flight: the cap holds.
    assert a.send("createRoom", name="third")["code"] == "LIMIT_EXCEEDED"
    table.update_item(  # the crash was longer ago than any function runs
        Key={"PK": f"USER#{alice.user_id}", "SK": "ROOMS"},
        UpdateExpression="SET reservedAt = :then",
        ExpressionAttributeValues={":then": int(time.time()) - RESERVATION_SECONDS - 1},
    )
    capsys.readouterr()

    assert a.send("createRoom", name="third")["type"] == "room"

    assert metric_total(emitted_metrics(capsys.readouterr().out), "RoomCountsCorrected") == 1
    assert memberships(table, alice.user_id) == 3 == counter(table, alice.user_id)["rooms"]
    assert a.send("createRoom", name="fourth")["code"] == "LIMIT_EXCEEDED"


def test_users_from_before_the_counters_are_counted_on_demand(chat_env, cap_of_3, table):
    old, joiner = User(), User()
    legacy_memberships(table, old.user_id, 2)
    legacy_memberships(table, joiner.user_id, 3)
    o, j = old.connect(), joiner.connect()
    lobby = make_room(User().connect(), open_=True)

    assert o.send("joinRoom", roomId=lobby)["type"] == "joined"  # 2 + 1: counted, then taken
    assert counter(table, old.user_id)["rooms"] == 3
    assert j.send("joinRoom", roomId=lobby)["code"] == "LIMIT_EXCEEDED"
    assert counter(table, joiner.user_id)["rooms"] == 3

    gone = User()
    legacy_memberships(table, gone.user_id, 1)
    g = gone.connect()
    room_id = make_room(User().connect(), open_=True)
    table.put_item(  # a join the old code wrote: both sides, no counter
        Item={"PK": f"USER#{gone.user_id}", "SK": f"ROOM#{room_id}", "roomId": room_id, "name": "room",
              "open": True, "joinedAt": "2026-11-01T00:00:00.000Z", "lastReadSeq": 0}
    )  # fmt: skip
    table.put_item(
        Item={"PK": f"ROOM#{room_id}", "SK": f"MEMBER#{gone.user_id}", "userId": gone.user_id,
              "displayName": "", "joinedAt": "2026-11-01T00:00:00.000Z", "conns": {}}
    )  # fmt: skip
    assert g.send("leaveRoom", roomId=room_id)["type"] == "left"
    assert counter(table, gone.user_id)["rooms"] == 1 == memberships(table, gone.user_id)


def test_at_the_default_cap_of_500(chat_env, table):
    """The shipped cap, on a user holding 499 rooms from before the counters (written directly)."""
    alice, crowded = User(), User()
    legacy_memberships(table, crowded.user_id, 499)
    a = alice.connect()

    assert a.send("createRoom", name="500th", memberIds=[crowded.user_id])["type"] == "room"
    assert counter(table, crowded.user_id)["rooms"] == 500
    refused = a.send("createRoom", name="501st", memberIds=[crowded.user_id])
    assert refused["code"] == "LIMIT_EXCEEDED" and "500 rooms" in refused["message"]
    lobby = make_room(a, open_=True)
    assert crowded.connect().send("joinRoom", roomId=lobby)["code"] == "LIMIT_EXCEEDED"
    assert memberships(table, crowded.user_id) == 500


def test_client_room_id_makes_a_retry_return_the_same_room_and_write_nothing(chat_env, table):
    alice, bob = User(), User()
    a, b = alice.connect(), bob.connect()

    first = a.send("createRoom", name="once", memberIds=[bob.user_id], clientRoomId="k-1")
    with dynamodb_requests() as sent:
        again = a.send("createRoom", name="once", memberIds=[bob.user_id], clientRoomId="k-1", requestId="r2")

    assert again == {**first, "requestId": "r2"}
    assert not WRITES & set(sent) and sent == ["GetItem", "GetItem"]  # the record, the room
    assert len(frames_of(chat_env, b, "room")) == 1
    assert memberships(table, bob.user_id) == 1 == counter(table, bob.user_id)["rooms"]
    # Per user: another user's same clientRoomId is another room.
    other = User().connect().send("createRoom", name="once", clientRoomId="k-1")
    assert other["room"]["roomId"] != first["room"]["roomId"]


def test_an_expired_client_room_id_names_a_new_room(chat_env, table):
    alice = User()
    a = alice.connect()
    first = a.send("createRoom", name="day one", clientRoomId="k-2")["room"]
    table.update_item(  # 24 hours later; DynamoDB has not deleted the record yet
        Key={"PK": f"USER#{alice.user_id}", "SK": "IDEMROOM#k-2"},
        UpdateExpression="SET #ttl = :past",
        ExpressionAttributeNames={"#ttl": "ttl"},
        ExpressionAttributeValues={":past": int(time.time()) - 1},
    )

    second = a.send("createRoom", name="day two", clientRoomId="k-2")

    assert second["type"] == "room" and second["room"]["roomId"] != first["roomId"]
    assert second["room"]["name"] == "day two"


def test_a_retry_after_a_crash_before_the_room_completes_it(chat_env, table):
    alice, bob = User(), User()
    a, b = alice.connect(), bob.connect()

    with failing(room_write, Crash()), pytest.raises(Crash):
        a.send("createRoom", name="resumed", memberIds=[bob.user_id], clientRoomId="k-3")
    retried = a.send("createRoom", name="resumed", memberIds=[bob.user_id], clientRoomId="k-3")

    assert retried["type"] == "room" and retried["room"]["name"] == "resumed"
    assert [f["room"] for f in frames_of(chat_env, b, "room")] == [retried["room"]]
    # The first attempt's reservation is the room's: counted once.
    assert counter(table, bob.user_id)["rooms"] == 1 == memberships(table, bob.user_id)


def test_a_failure_after_the_room_is_written_is_logged_and_counted_not_returned(chat_env, capsys, caplog):
    alice = User()
    a = alice.connect()
    reads = []

    def second_read_of_the_maps(operation: str, body: str) -> bool:
        if operation == "BatchGetItem" and '"CONNS"' in body:
            reads.append(body)
            return len(reads) >= 2
        return False

    capsys.readouterr()
    with failing(second_read_of_the_maps, ReadTimeoutError(endpoint_url="dynamodb")):
        reply = a.send("createRoom", name="written", clientRoomId="k-4")

    assert reply["type"] == "room"
    assert metric_total(emitted_metrics(capsys.readouterr().out), "RoomFollowUpFailures") == 1
    assert any(
        r.getMessage() == "createRoom wrote the room, but telling its members failed" for r in caplog.records
    )
    assert a.send("createRoom", name="written", clientRoomId="k-4") == reply


@pytest.mark.parametrize("client_room_id", ["", "x" * 65, 7, ["k"]])
def test_a_bad_client_room_id_is_a_bad_request(chat_env, client_room_id):
    reply = User().connect().send("createRoom", name="x", clientRoomId=client_room_id)
    assert reply["code"] == "BAD_REQUEST" and "clientRoomId" in reply["message"]


def test_what_a_create_room_costs(chat_env):
    """The requests docs/DATA_MODEL.md lists for createRoom, with and without a clientRoomId."""
    bob = User()
    a = User().connect()
    room = ["TransactWriteItems", "BatchGetItem", "BatchWriteItem", "TransactWriteItems", "BatchGetItem"]
    room += ["Query"]  # FanoutFunction's, run in this process: the room's member items, to post `room`

    with dynamodb_requests() as first:  # nobody has a counter yet: each is counted, then reserved
        a.send("createRoom", name="first", memberIds=[bob.user_id])
    with dynamodb_requests() as plain:
        a.send("createRoom", name="plain", memberIds=[bob.user_id])
    with dynamodb_requests() as keyed:
        a.send("createRoom", name="keyed", memberIds=[bob.user_id], clientRoomId="k-5")

    assert plain == room  # reservations, maps, member items, room and memberships, maps again
    assert keyed == ["GetItem", *room]  # the clientRoomId record first
    counting = ["GetItem", "Query", "UpdateItem"] * 2  # per user: counter, COUNT, the new counter
    assert first[0] == "TransactWriteItems" and sorted(first[1:7]) == sorted(counting)
    assert first[7:] == room
