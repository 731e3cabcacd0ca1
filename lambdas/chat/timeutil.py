"""Time as the protocol writes it: ISO 8601 UTC with milliseconds."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def now() -> float:
    return time.time()


def iso(epoch_seconds: float) -> str:
    """`2026-11-23T10:15:30.123Z` for an epoch time in seconds."""
    moment = datetime.fromtimestamp(epoch_seconds, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def epoch(iso_time: str) -> float:
    """The epoch seconds of a time `iso` wrote."""
    return datetime.fromisoformat(iso_time).timestamp()
