"""Fan-out through a real HTTP `@connections` server that injects 410, 429, 504, timeouts and slowness."""

from __future__ import annotations

import json
import os

from botocore.config import Config
from chat import fanout
from chat.logic.sessions import CONNECTING_SECONDS

from stacks.fanout_queue import MAX_RECEIVE_COUNT
from tests.chat.harness import User
from tests.chat.test_rooms import frames_of, make_room
from tests.chat.test_sessions import connection_items, member_connections
from tests.support.chat_table import open_for


def emitted_metrics(output: str) -> list[dict]:
    """The EMF documents Powertools printed (one JSON object per line)."""
    found = []
    for line in output.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            found.append(json.loads(line))
    return found


def metric_total(documents: list[dict], name: str, **dimensions: str) -> float:
    total = 0.0
    for doc in documents:
        if name in doc and all(doc.get(k) == v for k, v in dimensions.items()):
            value = doc[name]
            total += sum(value) if isinstance(value, list) else value
    return total


def test_a_gone_connection_is_removed_everywhere_and_the_others_still_receive(
    chat_env, table, moto_server, chat_table, capsys
):
    alice, bob = User(), User()
    a = alice.connect()
    b_live, b_dead = bob.connect(), bob.connect()
    room_id = make_room(a, bob)
    other_room = make_room(a, bob)
    open_for(moto_server.endpoint, chat_table, b_dead.connection_id, CONNECTING_SECONDS)  # established
    chat_env.close(b_dead.connection_id)
    attempts_before = chat_env.attempts(b_dead.connection_id)
    capsys.readouterr()

    ack = a.send("sendMessage", roomId=room_id, content="anyone there?")

    assert ack["type"] == "ack"
    assert [f["content"] for f in frames_of(chat_env, b_live, "message")] == ["anyone there?"]
    assert chat_env.attempts(b_dead.connection_id) == attempts_before + 1  # a 410 is final: no retry
    assert connection_items(table, b_dead) == (None, None)
    for rid in (room_id, other_room):
        assert member_connections(table, rid, bob) == {b_live.connection_id}
    documents = emitted_metrics(capsys.readouterr().out)
    assert metric_total(documents, "ConnectionsGone") == 1
    assert metric_total(documents, "StaleConnectionsRemoved") == 1
    assert metric_total(documents, "ConnectionsReached") == 1
    assert metric_total(documents, "MessagesStored") == 1


def test_a_connection_still_inside_its_connect_gets_410_and_keeps_its_records(chat_env, table, capsys):
    # Given Bob in a room with Alice, and Bob's second tab whose `$connect` has written its records
    # but not returned yet: API Gateway answers 410 to posts to it
    alice, bob = User(), User()
    a, b = alice.connect(), bob.connect()
    room_id = make_room(a, bob)
    connecting = bob.connect()
    chat_env.connecting(connecting.connection_id)
    capsys.readouterr()

    # When a message's fan-out meets it
    a.send("sendMessage", roomId=room_id, content="while you connect")

    # Then the 410 was answered, and nothing of the new connection was removed
    assert chat_env.attempts(connecting.connection_id) == 1
    assert frames_of(chat_env, connecting, "message") == []
    forward, reverse = connection_items(table, connecting)
    assert forward is not None and reverse is not None
    assert member_connections(table, room_id, bob) == {b.connection_id, connecting.connection_id}
    documents = emitted_metrics(capsys.readouterr().out)
    assert metric_total(documents, "GoneWhileConnecting") == 1
    assert metric_total(documents, "StaleConnectionsRemoved") == 0
    # and once the handshake completes, it hears the room's next message (the one it missed is in
    # getMessages, where a client resumes by `seq`)
    chat_env.established(connecting.connection_id)
    a.send("sendMessage", roomId=room_id, content="welcome")
    assert [f["content"] for f in frames_of(chat_env, connecting, "message")] == ["welcome"]
    missed = connecting.send("getMessages", roomId=room_id, after=0)
    assert [m["content"] for m in missed["items"]] == ["while you connect", "welcome"]


def test_throttling_is_retried_and_never_deletes(chat_env, table):
    alice, bob = User(), User()
    a, b = alice.connect(), bob.connect()
    room_id = make_room(a, bob)
    chat_env.fail(b.connection_id, 429, times=2)
    attempts_before = chat_env.attempts(b.connection_id)

    a.send("sendMessage", roomId=room_id, content="eventually")

    assert chat_env.attempts(b.connection_id) == attempts_before + 3
    assert [f["content"] for f in frames_of(chat_env, b, "message")] == ["eventually"]
    assert connection_items(table, b) != (None, None)


def test_persistent_gateway_timeouts_fail_after_bounded_retries_and_never_delete(chat_env, table, capsys):
    alice, bob, carol = User(), User(), User()
    a, b, c = alice.connect(), bob.connect(), carol.connect()
    room_id = make_room(a, bob, carol)
    chat_env.fail(b.connection_id, 504, times=10)
    attempts_before = chat_env.attempts(b.connection_id)
    capsys.readouterr()

    ack = a.send("sendMessage", roomId=room_id, content="to all")

    assert ack["type"] == "ack"
    assert chat_env.attempts(b.connection_id) == attempts_before + fanout.MAX_ATTEMPTS
    assert frames_of(chat_env, b, "message") == []
    assert [f["content"] for f in frames_of(chat_env, c, "message")] == ["to all"]
    assert connection_items(table, b) != (None, None)
    assert b.connection_id in member_connections(table, room_id, bob)
    documents = emitted_metrics(capsys.readouterr().out)
    assert metric_total(documents, "PostFailures", Kind="server_error") == 1


def test_a_post_refused_as_too_large_is_not_retried_and_the_others_still_receive(
    chat_env, table, capsys, caplog
):
    alice, bob, carol = User(), User(), User()
    a, b, c = alice.connect(), bob.connect(), carol.connect()
    room_id = make_room(a, bob, carol)
    chat_env.fail(b.connection_id, 413, times=5)
    attempts_before = chat_env.attempts(b.connection_id)
    capsys.readouterr()

    assert a.send("sendMessage", roomId=room_id, content="to all")["type"] == "ack"

    assert chat_env.attempts(b.connection_id) == attempts_before + 1  # final: the same bytes again would fail
    assert frames_of(chat_env, b, "message") == []
    assert [f["content"] for f in frames_of(chat_env, c, "message")] == ["to all"]
    assert b.connection_id in member_connections(table, room_id, bob)  # not gone: nothing is removed
    assert metric_total(emitted_metrics(capsys.readouterr().out), "PostFailures", Kind="too_large") == 1
    [warning] = [record for record in caplog.records if record.getMessage() == "post failed"]
    assert warning.levelname == "WARNING" and warning.kind == "too_large"
    assert warning.target_connection_id == b.connection_id


def test_a_frame_over_128_kb_is_refused_once_per_connection(chat_env):
    a, b = User().connect(), User().connect()
    targets = [a.connection_id, b.connection_id]
    before = [chat_env.attempts(target) for target in targets]

    outcome = fanout.post(chat_env.endpoint, targets, {"type": "message", "content": "x" * 128 * 1024})

    assert outcome.failed == dict.fromkeys(targets, fanout.TOO_LARGE) and not outcome.delivered
    assert [chat_env.attempts(target) for target in targets] == [n + 1 for n in before]


def test_a_post_that_times_out_is_retried_then_given_up_without_deleting(
    chat_env, table, function_env, monkeypatch, capsys
):
    monkeypatch.setattr(
        fanout, "_CONFIG", Config(connect_timeout=1, read_timeout=0.2, retries={"total_max_attempts": 1})
    )
    function_env.set(CONNECTIONS_ENDPOINT=chat_env.endpoint + "-short-timeouts")  # a fresh client
    alice, bob, carol = User(), User(), User()
    a, b, c = alice.connect(), bob.connect(), carol.connect()
    room_id = make_room(a, bob, carol)
    chat_env.delay(b.connection_id, 0.6)
    attempts_before = chat_env.attempts(b.connection_id)
    capsys.readouterr()

    assert a.send("sendMessage", roomId=room_id, content="slowly")["type"] == "ack"

    assert chat_env.attempts(b.connection_id) == attempts_before + fanout.MAX_ATTEMPTS
    assert [f["content"] for f in frames_of(chat_env, c, "message")] == ["slowly"]
    assert connection_items(table, b) != (None, None)
    assert b.connection_id in member_connections(table, room_id, bob)
    assert metric_total(emitted_metrics(capsys.readouterr().out), "PostFailures", Kind="timeout") == 1


def test_a_slow_connection_does_not_hold_back_the_others(chat_env):
    alice = User()
    a = alice.connect()
    others = [User() for _ in range(6)]
    connections = [u.connect() for u in others]
    room_id = make_room(a, *others)
    slow = connections[0]
    chat_env.delay(slow.connection_id, 0.5)

    a.send("sendMessage", roomId=room_id, content="hi")

    slow_done = chat_env.delivery_times(slow.connection_id)[-1]
    for fast in connections[1:]:
        done = chat_env.delivery_times(fast.connection_id)[-1]
        assert done < slow_done - 0.3


def test_the_reply_never_waits_for_the_fan_out(chat_env, lambda_server):
    """The route queues the fan-out (Lambda's asynchronous invocation) and replies: while the
    fan-out function is held back, the sender already has its ack and nobody has been posted to."""
    alice, bob = User(), User()
    a, b = alice.connect(), bob.connect()
    room_id = make_room(a, bob)

    with lambda_server.held():
        ack = a.send("sendMessage", roomId=room_id, content="later", settle=False)
        assert ack["type"] == "ack"
        assert frames_of(chat_env, b, "message") == []
    lambda_server.drain()

    assert [f["content"] for f in frames_of(chat_env, b, "message")] == ["later"]


def test_a_big_room_is_split_into_parallel_batches_and_each_member_gets_one_copy(
    chat_env, lambda_server, function_env
):
    function_env.set(FANOUT_BATCH_SIZE="3")
    alice = User()
    a = alice.connect()
    others = [User() for _ in range(8)]
    connections = [u.connect() for u in others]
    room_id = make_room(a, *others)
    invoked_before = len(lambda_server.invocations)

    a.send("sendMessage", roomId=room_id, content="to everyone")

    jobs = lambda_server.jobs(invoked_before)
    batches = [job["targets"] for job in jobs if "targets" in job]
    assert [len(batch) for batch in batches] == [3, 3]  # the room job posts the last 2 itself
    assert sum(1 for job in jobs if "roomId" in job) == 1
    for connection in connections:
        assert [f["content"] for f in frames_of(chat_env, connection, "message")] == ["to everyone"]


def test_a_room_job_that_cannot_run_is_retried_then_dead_lettered_and_the_room_goes_on(
    chat_env, lambda_server, fanout_queues, function_env
):
    """The queue hands a failed job back (at once here, after 2 s on AWS) until its third receive,
    then moves it to the dead-letter queue: the ack is unaffected, and the room's next message
    brings the lost one first, from the history, in seq order."""
    alice, bob = User(), User()
    a, b = alice.connect(), bob.connect()
    room_id = make_room(a, bob)
    endpoint = os.environ["CONNECTIONS_ENDPOINT"]
    function_env.delete("CONNECTIONS_ENDPOINT")
    before = len(lambda_server.invocations)

    ack = a.send("sendMessage", roomId=room_id, content="lost live")

    assert ack["type"] == "ack"
    assert frames_of(chat_env, b, "message") == []
    runs = [job for job in lambda_server.jobs(before) if job.get("roomId") == room_id]
    assert len(runs) == MAX_RECEIVE_COUNT
    letters = fanout_queues.sqs.receive_message(
        QueueUrl=fanout_queues.dead_letter_url, MaxNumberOfMessages=10
    )["Messages"]
    [letter] = [m for m in letters if json.loads(m["Body"]).get("roomId") == room_id]
    assert json.loads(letter["Body"])["frame"]["messageId"] == ack["messageId"]
    fanout_queues.sqs.delete_message(
        QueueUrl=fanout_queues.dead_letter_url, ReceiptHandle=letter["ReceiptHandle"]
    )

    function_env.set(CONNECTIONS_ENDPOINT=endpoint)
    a.send("sendMessage", roomId=room_id, content="heard")
    assert [(f["seq"], f["content"]) for f in frames_of(chat_env, b, "message")] == [
        (ack["seq"], "lost live"),
        (ack["seq"] + 1, "heard"),
    ]


def test_frames_go_out_as_utf_8_not_escaped(chat_env):
    """A 5,000-emoji message is 20 KB in UTF-8 and 60 KB escaped: posts and replies send UTF-8."""
    alice, bob = User(), User()
    a, b = alice.connect(), bob.connect()
    room_id = make_room(a, bob)
    text = "こんにちは 👍" * 100

    a.send("sendMessage", roomId=room_id, content=text)

    [payload] = [p for p in chat_env.payloads(b.connection_id) if b'"type":"message"' in p]
    assert text.encode("utf-8") in payload and b"\\u" not in payload
