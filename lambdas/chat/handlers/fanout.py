"""FanoutFunction: posts a frame to a room's members, or to one batch of them.

Three ways in: a batch of the FIFO queue's records (the rooms' ordered jobs, by the event source
mapping), an asynchronous invocation (presence, typing, a user's own tabs), or a batch invoked and
waited for by a room job.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from chat import dispatch
from chat.dispatch import FanoutJob
from chat.handlers.pipeline import load_settings
from chat.logic import fanout_job, fanout_records
from chat.notify import Notifier
from chat.observability import logger, metrics
from chat.timeutil import now

# Parsed once, when Lambda imports this module (tests re-read it after changing the environment).
SETTINGS = load_settings(__name__)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any] | None:
    """An asynchronous event's exception makes Lambda retry it (twice), then send it to the
    on-failure queue; a queue record's failure is reported in `batchItemFailures` instead."""
    # Batches go to this same function (a Ref to itself in its own environment would be circular).
    notifier = Notifier(
        function_name=context.function_name, presence_max_members=SETTINGS.presence_max_members
    )
    if "Records" in event:
        return _records(event["Records"], notifier)
    job = FanoutJob.from_event(event)
    logger.append_keys(room_id=job.room_id, frame_type=job.frame.get("type"))
    fanout_job.run(job, settings=SETTINGS, notifier=notifier, now=now(), request_id=context.aws_request_id)
    return None


def _records(records: list[dict[str, Any]], notifier: Notifier) -> dict[str, Any]:
    """Run the queue's records in order per room; the failed ones come back sooner than the queue's
    visibility timeout would bring them (FANOUT_RETRY_DELAY_SECONDS)."""
    failed = fanout_records.run(
        records,
        lambda job, request_id: fanout_job.run(
            job, settings=SETTINGS, notifier=notifier, now=now(), request_id=request_id
        ),
    )
    if failed.receipt_handles and SETTINGS.fanout_queue_url is not None:
        try:
            dispatch.retry_later(
                SETTINGS.fanout_queue_url, failed.receipt_handles, SETTINGS.fanout_retry_delay_seconds
            )
        except Exception:  # they come back after the visibility timeout instead
            logger.exception("could not bring failed records back early")
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed.message_ids]}
