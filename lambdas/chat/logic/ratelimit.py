"""`sendMessage` rate limit: a token bucket per connection, in this container's memory.

No DynamoDB request is spent on it. The limit is per container: API Gateway may spread one
connection's frames over several warm containers, each with its own bucket, so a client can exceed
the rate by at most that factor. That is the price of keeping the common path free of writes.
"""

from __future__ import annotations

from dataclasses import dataclass

from chat.lru import BoundedCache


@dataclass
class _Bucket:
    tokens: float
    updated: float


_buckets: BoundedCache[_Bucket] = BoundedCache()


def allow(connection_id: str, *, rate: float, burst: int, now: float) -> bool:
    """Take one token from the connection's bucket; False when it is empty."""
    bucket = _buckets.get(connection_id)
    if bucket is None:
        bucket = _Bucket(tokens=float(burst), updated=now)
        _buckets.put(connection_id, bucket)
    bucket.tokens = min(float(burst), bucket.tokens + (now - bucket.updated) * rate)
    bucket.updated = now
    if bucket.tokens < 1:
        return False
    bucket.tokens -= 1
    return True
