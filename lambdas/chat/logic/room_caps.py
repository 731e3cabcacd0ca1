"""The rooms-per-user cap (`max_rooms_per_user`): who is refused, and putting counters right.

A counter may stand above the user's real rooms after a crashed createRoom (its reservation was not
released) or be missing (a user from before the counters). Neither refuses anyone for long: a write
refused at the cap recounts the users it refused once, and is tried again if that changed a counter.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import metric_names
from chat.dal import room_counts
from chat.dal.client import in_parallel
from chat.models.domain import Caller
from chat.models.errors import LimitExceeded
from chat.observability import count

T = TypeVar("T")


def within_cap(caller: Caller, write: Callable[[], T], *, cap: int, now: float) -> T:
    """Run a membership write whose counters may refuse (room_counts.AtCap): the refusing users are
    recounted once and, if that changed a counter, the write is tried again; else LIMIT_EXCEEDED."""
    try:
        return write()
    except room_counts.AtCap as exc:
        if not recount(exc.user_ids, now):
            raise refusal(caller, exc.user_ids[0], cap) from exc
    try:
        return write()
    except room_counts.AtCap as exc:
        raise refusal(caller, exc.user_ids[0], cap) from exc


def recount(user_ids: list[str], now: float) -> bool:
    """Recount each user's rooms (8 at a time); True when any counter changed (then the write is
    worth retrying)."""
    results = in_parallel(lambda user_id: room_counts.recount(user_id, now), user_ids)
    changed = [user_id for user_id, changed_it in zip(user_ids, results, strict=True) if changed_it]
    if changed:
        count(metric_names.ROOM_COUNTS_CORRECTED, len(changed))
    return bool(changed)


def refusal(caller: Caller, user_id: str, cap: int) -> LimitExceeded:
    """LIMIT_EXCEEDED naming whose cap it is; of another user, only the id the caller gave."""
    if user_id == caller.user_id:
        return LimitExceeded(f"you are in {cap} rooms, the most one user may be in: leave one first")
    return LimitExceeded(f"user {user_id!r} is in {cap} rooms, the most one user may be in")
