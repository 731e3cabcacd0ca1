"""The metrics and log lines the dashboard and the runbook read, from the real handlers."""

from __future__ import annotations

import json
import time

from chat.handlers import broadcast, lifecycle

from tests.chat.harness import ClientConnection, LambdaContext, User, new_connection_id
from tests.chat.test_fanout import emitted_metrics, metric_total
from tests.chat.test_rooms import make_room


def samples(documents: list[dict], name: str) -> list[float]:
    """Every value of a metric across the EMF documents (Powertools writes several as a list)."""
    found: list[float] = []
    for doc in documents:
        if name in doc:
            found += doc[name] if isinstance(doc[name], list) else [doc[name]]
    return found


def test_a_slow_connection_shows_in_the_fanout_duration_and_its_log_line(chat_env, capsys, caplog):
    alice, bob = User(), User()
    a, b = alice.connect(), bob.connect()
    room_id = make_room(a, bob)
    chat_env.delay(b.connection_id, 0.3)
    capsys.readouterr()
    caplog.clear()

    assert a.send("sendMessage", roomId=room_id, content="slow")["type"] == "ack"

    (duration,) = samples(emitted_metrics(capsys.readouterr().out), "FanoutDuration")
    assert duration >= 300
    (line,) = [r for r in caplog.records if r.getMessage() == "fan-out"]
    assert line.room_id == room_id
    assert line.frame_type == "message"
    assert (line.audience, line.delivered, line.gone, line.failed) == (1, 1, 0, 0)
    assert line.duration_ms >= 300


def test_ack_latency_runs_from_api_gateway_receiving_the_frame_to_the_ack(chat_env, capsys):
    alice = User()
    a = alice.connect()
    room_id = make_room(a)
    event = a.event("message", "sendMessage")
    event["body"] = json.dumps({"action": "sendMessage", "roomId": room_id, "content": "hi"})
    event["requestContext"]["requestTimeEpoch"] = int(time.time() * 1000) - 250  # received 250 ms ago
    capsys.readouterr()
    started = time.time()

    reply = json.loads(broadcast.handler(event, LambdaContext())["body"])

    elapsed_ms = (time.time() - started) * 1000
    assert reply["type"] == "ack"
    documents = emitted_metrics(capsys.readouterr().out)
    (latency,) = samples(documents, "AckLatency")
    assert 250 <= latency <= 250 + elapsed_ms + 5
    assert samples(documents, "FanoutDuration") == []  # alone in the room: nobody to fan out to


def test_only_acks_record_ack_latency_and_every_frame_counts_by_route(chat_env, capsys):
    a = User().connect()
    capsys.readouterr()

    a.send("ping")
    a.send("sendMessage", roomId="no-such-room", content="hi")  # an error reply, not an ack

    documents = emitted_metrics(capsys.readouterr().out)
    assert samples(documents, "AckLatency") == []
    assert metric_total(documents, "Requests", Route="ping") == 1
    assert metric_total(documents, "Requests", Route="sendMessage") == 1
    assert metric_total(documents, "Errors", Code="ROOM_NOT_FOUND") == 1


def test_ack_latency_is_skipped_without_a_request_time(chat_env, capsys):
    a = User().connect()
    room_id = make_room(a)
    event = a.event("message", "sendMessage")
    event["body"] = json.dumps({"action": "sendMessage", "roomId": room_id, "content": "hi"})
    del event["requestContext"]["requestTimeEpoch"]
    capsys.readouterr()

    assert json.loads(broadcast.handler(event, LambdaContext())["body"])["type"] == "ack"

    assert samples(emitted_metrics(capsys.readouterr().out), "AckLatency") == []


def test_refused_connections_count_by_the_status_answered(chat_env, capsys, function_env):
    connection = ClientConnection(User(), new_connection_id())
    event = connection.event("connect", "$connect")
    del event["requestContext"]["authorizer"]
    capsys.readouterr()
    assert lifecycle.handler(event, LambdaContext()) == {"statusCode": 403}
    function_env.set(TABLE_NAME="no-such-table")  # the table write fails: 500
    assert ClientConnection(User(), new_connection_id()).lifecycle("connect") == {"statusCode": 500}

    documents = emitted_metrics(capsys.readouterr().out)
    assert metric_total(documents, "ConnectionsRefused", Status="403") == 1
    assert metric_total(documents, "ConnectionsRefused", Status="500") == 1
    assert metric_total(documents, "Connections") == 0
