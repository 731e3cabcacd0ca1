"""A room's messages leave the fan-out in seq order, also when concurrent sends queued them out of it.

sendMessage takes its seq (UpdateItem ADD), stores the message, then queues its job: two sends in
one room can queue in the other order than their seqs (12 takes its seq, 13 takes its seq, 13 is
stored and queued first). The FIFO queue runs one batch of a room at a time, so the room's fan-out
can keep a watermark (dal.delivery): every seq up to it has been posted. A message job for seq m:

- m ≤ watermark: posted already (from the history, by an earlier job): skipped, unless m was
  skipped as never stored and was stored late after all (posted now, out of order, and counted);
- m = watermark + 1: posted;
- m > watermark + 1: the seqs in between are posted first, in order: from this batch's later records
  if they are there, otherwise read from the history (strongly consistent), waiting up to
  GAP_WAIT_SECONDS for one whose send is still storing it. One still missing then is a gap (a seq
  taken but never stored: a crash, a concurrent duplicate, a sender who left at that instant; see
  docs/PROTOCOL.md) and is skipped.

A message posted from the history leaves out the connection it was sent from, as its own job does
(the message item keeps that connection's id, never shown on the wire); it is posted as it is now:
its newest version, or `messageDeleted` once it was deleted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import metric_names
from chat.dal import delivery, messages, quotes
from chat.dal.delivery import Watermark
from chat.dispatch import FanoutJob
from chat.models import frames
from chat.models.domain import Message
from chat.observability import count, logger

# How long a missing seq is waited for: a send stores its message milliseconds after taking its
# seq; one not stored after this is taken for a gap (and posted late should it come after all).
GAP_WAIT_SECONDS = 2.0
GAP_POLL_SECONDS = 0.05
RunJob = Callable[[FanoutJob, str], None]  # (job, request id)


def is_message(job: FanoutJob) -> bool:
    return job.room_id is not None and job.frame.get("type") == "message" and "seq" in job.frame


def save(mark: Watermark) -> None:
    """Write the watermark; a failure is logged (the next batch re-posts from the older one)."""
    try:
        delivery.put(mark)
    except Exception:
        logger.exception("could not save the room's delivery watermark", extra={"room_id": mark.room_id})


def deliver(
    mark: Watermark,
    job: FanoutJob,
    request_id: str,
    run_job: RunJob,
    *,
    queued: dict[int, FanoutJob],
) -> None:
    """Post message `job` in its seq's place; `queued`: this batch's message jobs by seq (those at or
    below the watermark, posted already, are never looked up).

    `mark` is advanced as each seq is posted, so a failure leaves it at the last one done.
    """
    seq = int(job.frame["seq"])
    if seq <= mark.delivered:
        if seq in mark.skipped:
            count(metric_names.FANOUT_LATE_MESSAGES)
            run_job(job, request_id)
            mark.skipped.remove(seq)
            mark.changed = True
        return
    missing = range(mark.delivered + 1, seq)
    stored = _stored(job.room_id or "", [k for k in missing if k not in queued])
    for k in missing:
        if k in queued:
            run_job(queued[k], f"{request_id}#{k}")
        elif k in stored:
            from_history = FanoutJob(
                frame=_as_posted(stored[k]),
                room_id=job.room_id,
                except_connection=stored[k].sent_from,
                member_count=job.member_count,
            )
            run_job(from_history, f"{request_id}#{k}")
        else:
            logger.warning("seq never stored: skipped", extra={"room_id": job.room_id, "seq": k})
            count(metric_names.FANOUT_GAPS_SKIPPED)
            mark.skipped.append(k)
        mark.delivered, mark.changed = k, True
    run_job(job, request_id)
    mark.delivered, mark.changed = seq, True


def _as_posted(message: Message) -> dict[str, Any]:
    """A message read from the history, as its seq's place in the room's order is filled: its newest
    version, or its tombstone once deleted (no content is posted after its delete)."""
    return frames.message_deleted(message) if message.deleted else frames.message(message)


def _stored(room_id: str, wanted: list[int]) -> dict[int, Message]:
    """The messages of `wanted` seqs in the history, waiting up to GAP_WAIT_SECONDS for all of them."""
    found: dict[int, Message] = {}
    deadline = time.monotonic() + GAP_WAIT_SECONDS
    while wanted:
        low, high = min(wanted), max(wanted)
        for message in messages.in_page_order(room_id, after=low - 1, before=high + 1, most=high - low + 1):
            if message.seq in wanted:
                found[message.seq] = message
        wanted = [seq for seq in wanted if seq not in found]
        if not wanted or time.monotonic() >= deadline:
            break
        time.sleep(GAP_POLL_SECONDS)
    return {message.seq: message for message in quotes.resolved(list(found.values()))}
