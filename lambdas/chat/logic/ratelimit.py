"""Per-connection rate limits: a token bucket per (connection, action), in this container's memory.

No DynamoDB request is spent on them: the pipeline checks a frame's bucket before the action reads
or writes anything. The limit is per container: API Gateway may spread one connection's frames over
several warm containers, each with its own buckets, so a client can exceed a rate by at most that
factor. That is the price of keeping the common path free of writes.
"""

from __future__ import annotations

from dataclasses import dataclass

from chat.lru import BoundedCache

# A connection may hold a bucket per limited action and one per room it types in.
BUCKETS = 50_000


@dataclass(frozen=True)
class RateLimit:
    """`burst` frames at once, refilled at `rate_per_second`."""

    rate_per_second: float
    burst: int


@dataclass
class _Bucket:
    tokens: float
    updated: float


_buckets: BoundedCache[_Bucket] = BoundedCache(BUCKETS)


def allow(connection_id: str, action: str, limit: RateLimit, *, now: float) -> bool:
    """Take one token from the connection's bucket for `action`; False when it is empty."""
    key = f"{connection_id} {action}"
    bucket = _buckets.get(key)
    if bucket is None:
        bucket = _Bucket(tokens=float(limit.burst), updated=now)
        _buckets.put(key, bucket)
    bucket.tokens = min(float(limit.burst), bucket.tokens + (now - bucket.updated) * limit.rate_per_second)
    bucket.updated = now
    if bucket.tokens < 1:
        return False
    bucket.tokens -= 1
    return True


def allow_typing(connection_id: str, room_id: str, *, interval_seconds: float, now: float) -> bool:
    """At most one `typing` per room every `interval_seconds` per connection."""
    once = RateLimit(rate_per_second=1 / interval_seconds, burst=1)
    return allow(connection_id, f"typing {room_id}", once, now=now)
