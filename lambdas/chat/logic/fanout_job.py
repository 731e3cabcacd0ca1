"""What the fan-out function does with a job: read the room's audience, split, post.

A room job reads who is listening: for a message to a room of more than `presence_max_members`
members, the room's online index (dal/online.py: only members with a connection, its shards in
parallel); otherwise the member items, page by page (strongly consistent, and as cheap as the index
in a small room). Reading the member items also puts into the index a member listed from before
the index existed, and the index's reader takes out a member left in it with no entry (a crash
between a disconnect's two updates). It collects their live connections; each time
`fanout_batch_size` of them are collected, they are handed to another invocation of the
fan-out function (`RequestResponse` on a thread, so the batches post in parallel while the next page
is read); the last batch is posted here. The job returns only once every batch has posted, and
raises if one failed: the room's next ordered job never overtakes this one at any connection, and a
failed one is retried whole (clients de-duplicate by messageId). A room of up to one batch costs one
invocation. A batch job posts to its targets.

Connections API Gateway says are gone (410) once they are established (sessions.drop_gone: a
connection still inside its `$connect` answers 410 too), and entries whose connection has expired,
are forgotten everywhere (sessions.drop), which also announces members going offline.

A connection whose session ended (its token expired without a `reauth`) gets none of the room's
traffic. The room job asks its record what it needs (sessions.sort_ended): one `sessionExpired`
frame, posted by whichever fan-out wins the record's conditional write; after the grace
(`session_grace_seconds`), `DeleteConnection`; or, when a reauth came first, the frame after all.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import islice
from typing import Any

import metric_names
from chat import dispatch, fanout
from chat.config import ChatSettings
from chat.dal import members, online
from chat.dal.client import in_parallel
from chat.dispatch import FanoutJob
from chat.logic import sessions
from chat.models import frames
from chat.models.domain import Member
from chat.notify import Notifier
from chat.observability import count, count_by, logger, milliseconds
from chat.timeutil import iso

# Member items read per Query page (well under DynamoDB's 1 MB page at a few hundred bytes each).
MEMBER_PAGE = 1000
# Batches in flight at once: each thread waits for its batch's invocation to answer, so this bounds
# how many batches of a room post in parallel (the rest follow as threads come free; one boto3
# client is safe across threads).
_dispatcher = ThreadPoolExecutor(max_workers=dispatch.WAITS_IN_FLIGHT, thread_name_prefix="dispatch")


def run(job: FanoutJob, *, settings: ChatSettings, notifier: Notifier, now: float, request_id: str) -> None:
    """Run one job; `request_id` is the invocation's (Lambda keeps it on its retries of the event)."""
    if job.targets is not None:
        post(job.targets, job.frame, settings=settings, notifier=notifier, now=now)
        return
    assert job.room_id is not None, "a fan-out job names a room or its targets"
    batch = settings.fanout_batch_size
    pending: dict[str, str] = dict(job.extra)
    expired: dict[str, str] = {}
    ended: dict[str, str] = {}
    dispatched: list[Future[None]] = []
    misindexed: list[Member] = []
    for page in _audience(job, settings):
        for member in page:
            if member.indexed != bool(member.connections):
                misindexed.append(member)
            if member.user_id == job.except_user:
                continue
            for connection_id in member.in_session(now):
                if connection_id != job.except_connection:
                    pending[connection_id] = member.user_id
            for connection_id in member.session_ended(now):
                if connection_id != job.except_connection:
                    ended[connection_id] = member.user_id
            expired.update(dict.fromkeys(member.expired_connections(now), member.user_id))
        while len(pending) > batch:
            split = dict(islice(pending.items(), batch))
            for connection_id in split:
                del pending[connection_id]
            dispatched.append(_dispatcher.submit(notifier.batch, split, job.frame))
            count(metric_names.FANOUT_BATCHES)
    for connection_id in set(ended) & set(pending):  # `extra` targets: their sessions are sorted here too
        del pending[connection_id]
    post(pending, job.frame, settings=settings, notifier=notifier, now=now)
    if ended:
        _ended_sessions(ended, job.frame, settings=settings, notifier=notifier, now=now, claimant=request_id)
    for connection_id, user_id in expired.items():
        _forget(connection_id, user_id, notifier=notifier, now=now)
    _reindex(job.room_id, misindexed)
    for running in dispatched:
        running.result()  # a failed batch raises: the whole job is retried, in its place in the room


def _audience(job: FanoutJob, settings: ChatSettings) -> Iterator[list[Member]]:
    assert job.room_id is not None
    if job.member_count is not None and job.member_count > settings.presence_max_members:
        return online.pages(job.room_id)
    return members.pages(job.room_id, MEMBER_PAGE)


def _reindex(room_id: str, found: list[Member]) -> None:
    """Index the listed members that are not (written before the index), unindex the indexed ones
    with no entry; a failure is logged (the next fan-out meets them again)."""

    def put_right(member: Member) -> None:
        if member.connections:
            online.add_listed(room_id, member.user_id)
        else:
            online.forget_if_empty(room_id, member.user_id)

    try:
        in_parallel(put_right, found)
    except Exception:
        logger.exception("could not put the online index right", extra={"members": len(found)})
        return
    if found:
        count(metric_names.ONLINE_INDEX_REPAIRS, len(found))


def post(
    targets: dict[str, str], frame: dict[str, Any], *, settings: ChatSettings, notifier: Notifier, now: float
) -> None:
    """Post to every target; forget the gone ones; count and log what happened."""
    if not targets:
        return
    if settings.connections_endpoint is None:
        raise RuntimeError("CONNECTIONS_ENDPOINT is not set: the stack sets it on the fan-out function")
    started = time.perf_counter()
    outcome = fanout.post(settings.connections_endpoint, targets, frame)
    duration_ms = (time.perf_counter() - started) * 1000
    milliseconds(metric_names.FANOUT_DURATION, duration_ms)
    count(metric_names.POSTS_DELIVERED, len(outcome.delivered))
    count(metric_names.POSTS_GONE, len(outcome.gone))
    logger.info(
        "fan-out",
        extra={
            "room_id": frame.get("roomId") or (frame.get("room") or {}).get("roomId"),
            "frame_type": frame.get("type"),
            "audience": len(targets),
            "delivered": len(outcome.delivered),
            "gone": len(outcome.gone),
            "failed": len(outcome.failed),
            "duration_ms": round(duration_ms, 1),
        },
    )
    for connection_id in outcome.gone:
        _forget(connection_id, targets[connection_id], notifier=notifier, now=now, answered_410=True)
    for connection_id, kind in outcome.failed.items():
        logger.warning("post failed", extra={"target_connection_id": connection_id, "kind": kind})
        count_by(metric_names.POST_FAILURES, kind)


def _ended_sessions(
    ended: dict[str, str],
    frame: dict[str, Any],
    *,
    settings: ChatSettings,
    notifier: Notifier,
    now: float,
    claimant: str,
) -> None:
    """Tell, close or (renewed) deliver to the connections whose session ended; see the module doc."""
    found = sessions.sort_ended(
        ended, now=now, grace_seconds=settings.session_grace_seconds, claimant=claimant
    )
    post(found.renewed, frame, settings=settings, notifier=notifier, now=now)
    for (expires_at, closes_at), targets in found.tell.items():
        post(
            targets,
            frames.session_expired(iso(expires_at), iso(closes_at)),
            settings=settings,
            notifier=notifier,
            now=now,
        )
        count(metric_names.SESSIONS_EXPIRED_TOLD, len(targets))
    if found.close:
        _close(found.close, settings=settings, notifier=notifier, now=now)
    for connection_id, user_id in found.gone.items():
        _forget(connection_id, user_id, notifier=notifier, now=now)


def _close(targets: dict[str, str], *, settings: ChatSettings, notifier: Notifier, now: float) -> None:
    """DeleteConnection, then forget them here too: `$disconnect` after it is best-effort on AWS."""
    assert settings.connections_endpoint is not None, "post() checked it first"
    outcome = fanout.close(settings.connections_endpoint, targets)
    count(metric_names.SESSIONS_CLOSED, len(outcome.delivered))
    logger.info("sessions closed", extra={"closed": len(outcome.delivered), "gone": len(outcome.gone)})
    for connection_id in outcome.delivered:
        _forget(connection_id, targets[connection_id], notifier=notifier, now=now)
    for connection_id in outcome.gone:
        _forget(connection_id, targets[connection_id], notifier=notifier, now=now, answered_410=True)
    for connection_id, kind in outcome.failed.items():
        logger.warning("close failed", extra={"target_connection_id": connection_id, "kind": kind})
        count_by(metric_names.POST_FAILURES, kind)


def _forget(
    connection_id: str, user_id: str, *, notifier: Notifier, now: float, answered_410: bool = False
) -> None:
    """Remove a connection's records; after a 410, only once it is established (sessions.drop_gone)."""
    try:
        if answered_410:
            dropped = sessions.drop_gone(connection_id, user_id, now=now, notifier=notifier)
        else:
            sessions.drop(connection_id, user_id, now=now, notifier=notifier)
            dropped = True
    except Exception:
        logger.exception("could not remove a gone connection", extra={"gone_connection_id": connection_id})
        return
    if dropped:
        count(metric_names.STALE_CONNECTIONS_REMOVED)
    else:
        logger.info("410 while connecting: records kept", extra={"target_connection_id": connection_id})
        count(metric_names.GONE_WHILE_CONNECTING)
