"""FanoutFunction: posts a frame to a room's members, or to one batch of them (invoked asynchronously)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from chat.dispatch import FanoutJob
from chat.handlers.pipeline import load_settings
from chat.logic import fanout_job
from chat.notify import Notifier
from chat.observability import logger, metrics
from chat.timeutil import now

# Parsed once, when Lambda imports this module (tests re-read it after changing the environment).
SETTINGS = load_settings(__name__)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> None:
    """An exception makes Lambda retry the event (twice), then send it to the on-failure queue."""
    job = FanoutJob.from_event(event)
    logger.append_keys(room_id=job.room_id, frame_type=job.frame.get("type"))
    # Batches go to this same function (a Ref to itself in its own environment would be circular).
    notifier = Notifier(
        function_name=context.function_name, presence_max_members=SETTINGS.presence_max_members
    )
    fanout_job.run(job, settings=SETTINGS, notifier=notifier, now=now(), request_id=context.aws_request_id)
