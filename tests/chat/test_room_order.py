"""A room's messages are posted in seq order even when their jobs were queued out of it.

Two sends race between taking a seq and queueing their job: the one with the higher seq can be
queued first. These tests make that race deterministic: a seq is taken as a send would (and its
message stored, late or never), then a later message is sent through the route; the FIFO queue and
the fan-out run as on AWS (moto's queue, the handler in-process).
"""

from __future__ import annotations

import os
import threading
import time
import uuid

from chat import dispatch
from chat.dal import delivery
from chat.dal import messages as message_store
from chat.dal import rooms as room_store
from chat.logic import room_order
from chat.models import frames
from chat.models.domain import Message
from chat.timeutil import iso

from tests.chat.harness import User
from tests.chat.test_fanout import emitted_metrics, metric_total
from tests.chat.test_rooms import frames_of, make_room


def taken_seq(room_id: str, sender: User, connection_id: str) -> Message:
    """A send that has taken its seq and not yet stored its message (step 2 of logic.messages)."""
    return Message(
        room_id=room_id,
        message_id=str(uuid.uuid4()),
        seq=room_store.allocate_seq(room_id).seq,
        sender_id=sender.user_id,
        content="the slow one",
        created_at=iso(time.time()),
        sent_from=connection_id,
    )


def store(message: Message) -> None:
    message_store.store(message, idempotency_ttl=int(time.time()) + 60, now=time.time())


def queue_job(sqs, message: Message) -> None:
    """The slow send's last step: its job, queued after the later message's (with a deduplication id
    of its own, so that SQS's deduplication cannot hide what the fan-out does)."""
    job = dispatch.FanoutJob(
        frame=frames.message(message), room_id=message.room_id, except_connection=message.sent_from
    )
    sqs.send_message(
        QueueUrl=os.environ["FANOUT_QUEUE_URL"],
        MessageBody=job.payload().decode(),
        MessageGroupId=message.room_id,
        MessageDeduplicationId=str(uuid.uuid4()),
    )


def test_a_message_stored_while_a_later_one_waits_is_posted_first_from_the_history(
    chat_env, lambda_server, fanout_queues
):
    alice, bob = User(), User()
    a, b = alice.connect(), bob.connect()
    room_id = make_room(a, bob)
    slow = taken_seq(room_id, alice, a.connection_id)
    threading.Timer(0.3, store, (slow,)).start()  # stored while the later message's job waits

    later = a.send("sendMessage", roomId=room_id, content="the quick one")
    queue_job(fanout_queues.sqs, slow)
    lambda_server.drain()

    assert later["seq"] == slow.seq + 1
    heard = [(f["seq"], f["content"]) for f in frames_of(chat_env, b, "message")]
    assert heard == [(slow.seq, "the slow one"), (later["seq"], "the quick one")]  # once each
    assert frames_of(chat_env, a, "message") == []  # the sending connection, also from the history
    assert delivery.get(room_id).delivered == later["seq"]


def test_a_seq_never_stored_is_skipped_after_the_wait_and_posted_late_if_it_comes(
    chat_env, lambda_server, fanout_queues, capsys
):
    alice, bob = User(), User()
    a, b = alice.connect(), bob.connect()
    room_id = make_room(a, bob)
    lost = taken_seq(room_id, alice, a.connection_id)

    started = time.monotonic()
    later = a.send("sendMessage", roomId=room_id, content="after a gap")
    waited = time.monotonic() - started

    assert [f["seq"] for f in frames_of(chat_env, b, "message")] == [later["seq"]]
    assert room_order.GAP_WAIT_SECONDS <= waited < room_order.GAP_WAIT_SECONDS + 5
    mark = delivery.get(room_id)
    assert (mark.delivered, mark.skipped) == (later["seq"], [lost.seq])

    store(lost)  # after all, and much later than a send takes
    queue_job(fanout_queues.sqs, lost)
    lambda_server.drain()

    assert [f["seq"] for f in frames_of(chat_env, b, "message")] == [later["seq"], lost.seq]
    assert delivery.get(room_id).skipped == []
    documents = emitted_metrics(capsys.readouterr().out)
    assert metric_total(documents, "FanoutGapsSkipped") == 1
    assert metric_total(documents, "FanoutLateMessages") == 1


def test_a_job_queued_twice_is_posted_once(chat_env, lambda_server, fanout_queues):
    alice, bob = User(), User()
    a, b = alice.connect(), bob.connect()
    room_id = make_room(a, bob)
    ack = a.send("sendMessage", roomId=room_id, content="once")
    stored = message_store.get(room_id, ack["seq"])
    assert stored is not None and stored.sent_from == a.connection_id

    queue_job(
        fanout_queues.sqs, stored
    )  # as a redelivered record, or a copy queued after the deduplication window
    lambda_server.drain()

    assert [f["messageId"] for f in frames_of(chat_env, b, "message")] == [ack["messageId"]]
