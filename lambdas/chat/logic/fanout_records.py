"""A batch of the FIFO queue's records: each room's jobs run in order, rooms side by side.

Lambda's event source mapping hands the function up to ten records, in order within each message
group (a room) and possibly of several groups. Each group's records run one after the other (a room
job returns once every batch of it has posted, so a connection gets message n before n+1), its
messages in seq order even when concurrent sends queued them out of it (room_order); groups run in
parallel threads. A room's first batch after the online index came (its watermark not yet `indexed`)
reads the member items, whatever the room's size, which puts the members connected from before into
the index; the room's later big-room messages read the index. When a record fails, it and every
later record of its group are reported as failures (ReportBatchItemFailures): SQS keeps them, in
order, and the group waits for their retry. The other groups' records are unaffected.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import metric_names
from chat.dal import delivery
from chat.dal.delivery import Watermark
from chat.dispatch import FanoutJob
from chat.logic import room_order
from chat.observability import count, logger

# Rooms of one batch run side by side; a batch holds at most ten records.
GROUP_THREADS = 10
_groups = ThreadPoolExecutor(max_workers=GROUP_THREADS, thread_name_prefix="group")

RunJob = Callable[[FanoutJob, str], None]  # (job, request id kept across the record's retries)


@dataclass(frozen=True)
class Failed:
    message_ids: list[str]
    receipt_handles: list[str]


def run(records: list[dict[str, Any]], run_job: RunJob) -> Failed:
    """Run every record; return the ones SQS must keep (a failed one and its group's later ones)."""
    by_group: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        by_group.setdefault(record["attributes"]["MessageGroupId"], []).append(record)
    failed = [
        record
        for kept in _groups.map(lambda group: _run_group(group, run_job), by_group.values())
        for record in kept
    ]
    if failed:
        count(metric_names.FANOUT_RECORDS_RETRIED, len(failed))
    return Failed([record["messageId"] for record in failed], [record["receiptHandle"] for record in failed])


def _run_group(records: list[dict[str, Any]], run_job: RunJob) -> list[dict[str, Any]]:
    """Run one group's records in order, its messages in seq order (room_order); return the failed
    one and the ones after it."""
    jobs = [FanoutJob.from_event(json.loads(record["body"])) for record in records]

    def _reading_members(job: FanoutJob, request_id: str) -> None:
        """Until its watermark says the room was indexed, a message job reads the member items,
        which indexes the members listed from before the online index (chat.logic.fanout_job)."""
        run_job(dataclasses.replace(job, member_count=None), request_id)

    queued = {int(job.frame["seq"]): job for job in jobs if room_order.is_message(job)}
    mark: Watermark | None = None  # read at the group's first message
    try:
        for index, (record, job) in enumerate(zip(records, jobs, strict=True)):
            # The record's messageId is kept on its retries, as an asynchronous event's request id is.
            request_id = record["messageId"]
            try:
                if not room_order.is_message(job):
                    run_job(job, request_id)
                    continue
                mark = mark or delivery.get(job.room_id or "")
                room_order.deliver(
                    mark, job, request_id, run_job if mark.indexed else _reading_members, queued=queued
                )
            except Exception:
                logger.exception(
                    "room job failed: it and its room's later jobs are retried",
                    extra={"message_id": request_id, "kept": len(records) - index},
                )
                return records[index:]
        if mark is not None and not mark.indexed:
            mark.indexed = mark.changed = True  # its member items were read (and indexed) once
        return []
    finally:
        if mark is not None and mark.changed:
            room_order.save(mark)
