"""A connection whose token expired gets no room traffic, is told once, and is closed after a grace.

Everything runs the real path: the route functions, FanoutFunction invoked through the Lambda API,
DynamoDB in moto's server, `@connections` over HTTP (tests/support/connections_server.py).
"""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime

import pytest
from botocore.exceptions import ReadTimeoutError
from chat.dal import client as dal_client
from chat.logic import sessions

from tests.chat.harness import User, dynamodb_requests, settle
from tests.chat.test_errors import formatted_logs
from tests.chat.test_fanout import emitted_metrics, metric_total
from tests.chat.test_rooms import frames_of, make_room
from tests.chat.test_sessions import connection_items, member_connections
from tests.support.dynamodb_faults import TIMEOUT, Call, failing, no_backoff


def expired_user() -> User:
    """A user whose connections carry a token that expired 5 s ago (the authorizer's leeway let it in)."""
    return User(token_expires_at=int(time.time()) - 5)


def iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def test_an_ended_session_gets_no_room_traffic_and_is_told_once(chat_env, table, capsys):
    alice, bob = User(), expired_user()
    a = alice.connect()
    ended = bob.connect()
    in_session = User(user_id=bob.user_id, username=bob.username).connect()  # bob's other tab
    capsys.readouterr()
    room_id = make_room(a, bob)  # the `room` frame: the ended session is told instead

    for i in range(3):
        a.send("sendMessage", roomId=room_id, content=f"hello {i}")

    told = chat_env.frames(ended.connection_id)
    assert told == [
        {
            "type": "sessionExpired",
            "expiresAt": iso(bob.token_expires_at),
            "closesAt": iso(bob.token_expires_at + 60),  # SESSION_GRACE_SECONDS of the baseline
        }
    ]
    assert [f["content"] for f in frames_of(chat_env, in_session, "message")] == [
        "hello 0",
        "hello 1",
        "hello 2",
    ]
    assert chat_env.deleted(ended.connection_id) == 0  # within the grace: still open
    assert member_connections(table, room_id, bob) == {ended.connection_id, in_session.connection_id}
    assert metric_total(emitted_metrics(capsys.readouterr().out), "SessionsExpiredTold") == 1


def test_concurrent_fan_outs_of_different_rooms_tell_it_once(chat_env, table):
    alice, bob = User(), expired_user()
    a = alice.connect()
    ended = bob.connect()
    rooms = [make_room(a, bob, name=f"room {i}") for i in range(4)]
    # the first room's `room` frame told it; the others' did not
    assert [f["type"] for f in chat_env.frames(ended.connection_id)] == ["sessionExpired"]
    chat_env.reset()
    # Forget who was told, then race a message in each room: the record's conditional write decides.
    table.update_item(
        Key={"PK": f"CONN#{ended.connection_id}", "SK": "CONN"}, UpdateExpression="REMOVE expiryToldFor"
    )
    senders = [
        threading.Thread(
            target=a.send, args=("sendMessage",), kwargs={"roomId": r, "content": "hi", "settle": False}
        )
        for r in rooms
    ]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    settle()

    assert [f["type"] for f in chat_env.frames(ended.connection_id)] == ["sessionExpired"]


def test_exactly_one_of_many_concurrent_claims_wins(chat_env):
    bob = expired_user()
    ended = bob.connect()
    now = time.time()
    results: list[sessions.EndedSessions] = []
    lock = threading.Lock()

    def claim() -> None:
        found = sessions.sort_ended(
            {ended.connection_id: bob.user_id}, now=now, grace_seconds=60, claimant=str(uuid.uuid4())
        )
        with lock:
            results.append(found)

    claimers = [threading.Thread(target=claim) for _ in range(8)]
    for claimer in claimers:
        claimer.start()
    for claimer in claimers:
        claimer.join()

    assert sum(len(found.tell) for found in results) == 1
    assert all(not found.close and not found.renewed and not found.gone for found in results)


def test_a_claim_applied_whose_reply_was_lost_is_still_its_fan_outs_to_tell(chat_env):
    """The notice write times out after DynamoDB applied it (the fan-out fails; Lambda retries the
    event with the same request id): the retry finds its own claim and tells; another fan-out does not."""
    bob = expired_user()
    ended = bob.connect()
    now = time.time()
    targets = {ended.connection_id: bob.user_id}

    with (
        no_backoff(),
        failing(dal_client.low_level(), Call("UpdateItem", 1), TIMEOUT) as injected,
        pytest.raises(ReadTimeoutError),
    ):
        sessions.sort_ended(targets, now=now, grace_seconds=60, claimant="request-1")
    assert injected.attempts > 1  # every attempt of botocore's reached DynamoDB and lost its reply

    other = sessions.sort_ended(targets, now=now, grace_seconds=60, claimant="request-2")
    retried = sessions.sort_ended(targets, now=now, grace_seconds=60, claimant="request-1")

    assert not other.tell
    assert list(retried.tell.values()) == [targets]


def test_after_the_grace_the_next_fan_out_closes_it_and_forgets_it(chat_env, table, function_env, capsys):
    function_env.set(SESSION_GRACE_SECONDS="3")
    alice, bob = User(), User(token_expires_at=int(time.time()) - 5)
    a = alice.connect()
    ended = bob.connect()
    room_id = make_room(a, bob)  # its `room` frame tells bob's connection (grace ends in -2 s)
    assert [f["type"] for f in chat_env.frames(ended.connection_id)] == ["sessionExpired"]
    capsys.readouterr()

    a.send("sendMessage", roomId=room_id, content="past the grace")

    assert chat_env.deleted(ended.connection_id) == 1
    assert [f["type"] for f in chat_env.frames(ended.connection_id)] == ["sessionExpired"]
    assert connection_items(table, ended) == (None, None)  # forgotten, as its $disconnect would
    assert member_connections(table, room_id, bob) == set()
    assert metric_total(emitted_metrics(capsys.readouterr().out), "SessionsClosed") == 1


def test_within_the_grace_it_is_left_open(chat_env, function_env):
    function_env.set(SESSION_GRACE_SECONDS="300")
    alice, bob = User(), expired_user()
    a = alice.connect()
    ended = bob.connect()
    room_id = make_room(a, bob)

    a.send("sendMessage", roomId=room_id, content="within the grace")

    assert chat_env.deleted(ended.connection_id) == 0
    assert [f["type"] for f in chat_env.frames(ended.connection_id)] == ["sessionExpired"]


def test_a_throttled_close_is_retried(chat_env, table, function_env):
    function_env.set(SESSION_GRACE_SECONDS="0")
    alice, bob = User(), expired_user()
    a = alice.connect()
    ended = bob.connect()
    room_id = make_room(a, bob)  # tells it
    chat_env.fail(ended.connection_id, 429, times=1)

    a.send("sendMessage", roomId=room_id, content="close it")

    assert chat_env.deleted(ended.connection_id) == 1
    assert connection_items(table, ended) == (None, None)


def test_a_close_that_keeps_failing_is_logged_and_left_for_the_next_fan_out(
    chat_env, table, function_env, caplog
):
    function_env.set(SESSION_GRACE_SECONDS="0")
    alice, bob = User(), expired_user()
    a = alice.connect()
    ended = bob.connect()
    room_id = make_room(a, bob)  # tells it
    chat_env.fail(ended.connection_id, 504, times=3)  # every attempt of one close
    caplog.clear()

    a.send("sendMessage", roomId=room_id, content="close it")

    assert chat_env.deleted(ended.connection_id) == 0
    assert connection_items(table, ended) != (None, None)  # not forgotten: it is still open
    [failed] = [entry for entry in formatted_logs(caplog) if entry["message"] == "close failed"]
    assert failed["target_connection_id"] == ended.connection_id and failed["kind"] == "server_error"

    a.send("sendMessage", roomId=room_id, content="again")

    assert chat_env.deleted(ended.connection_id) == 1
    assert connection_items(table, ended) == (None, None)


def test_a_reauth_the_member_items_do_not_show_yet_still_gets_the_message(chat_env, table):
    """The record is written first by reauth: a fan-out reading a member item before its update
    finds the record renewed, delivers, and does not tell."""
    alice, bob = User(), expired_user()
    a = alice.connect()
    ended = bob.connect()
    room_id = make_room(a, bob)
    chat_env.reset()
    table.update_item(
        Key={"PK": f"CONN#{ended.connection_id}", "SK": "CONN"},
        UpdateExpression="SET tokenExpiresAt = :e",
        ExpressionAttributeValues={":e": int(time.time()) + 3600},
    )

    a.send("sendMessage", roomId=room_id, content="renewed")

    assert [f.get("content") for f in chat_env.frames(ended.connection_id)] == ["renewed"]


def test_an_entry_of_the_previous_version_still_receives(chat_env, table):
    """Entries written before sessions were kept (a bare number: when the connection ends) read as
    a session as long as the connection, as that version delivered."""
    alice, bob = User(), User()
    a, b = alice.connect(), bob.connect()
    room_id = make_room(a, bob)
    table.update_item(
        Key={"PK": f"ROOM#{room_id}", "SK": f"MEMBER#{bob.user_id}"},
        UpdateExpression="SET conns.#c = :e",
        ExpressionAttributeNames={"#c": b.connection_id},
        ExpressionAttributeValues={":e": int(time.time()) + 3600},
    )

    a.send("sendMessage", roomId=room_id, content="old entry")

    assert [f["content"] for f in frames_of(chat_env, b, "message")] == ["old entry"]


def test_an_ended_session_costs_one_conditional_write_per_fan_out(chat_env):
    alice, bob = User(), expired_user()
    a = alice.connect()
    bob.connect()
    room_id = make_room(a, bob)

    with dynamodb_requests() as sent:
        a.send("sendMessage", roomId=room_id, content="count")

    # the route's 4 requests; the fan-out's Query, its watermark's GetItem and UpdateItem
    # (docs/DATA_MODEL.md), and the one UpdateItem on the ended connection
    assert sent.count("Query") == 1 and sent.count("UpdateItem") == 3, sent
