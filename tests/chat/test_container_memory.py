"""The per-container state: the sendMessage token bucket and the bounded caches (no I/O)."""

from __future__ import annotations

from chat.logic import ratelimit
from chat.lru import BoundedCache

from tests.chat.harness import new_connection_id


def test_the_bucket_allows_a_burst_then_refills_at_the_rate():
    connection = new_connection_id()
    allowed = [ratelimit.allow(connection, rate=2, burst=3, now=100.0) for _ in range(4)]
    assert allowed == [True, True, True, False]

    assert ratelimit.allow(connection, rate=2, burst=3, now=100.4) is False  # 0.8 of a token
    assert ratelimit.allow(connection, rate=2, burst=3, now=100.5) is True  # 1 token after 0.5 s
    assert [ratelimit.allow(connection, rate=2, burst=3, now=200.0) for _ in range(4)] == [True] * 3 + [False]


def test_buckets_are_per_connection():
    first, second = new_connection_id(), new_connection_id()
    assert ratelimit.allow(first, rate=0.001, burst=1, now=0.0) is True
    assert ratelimit.allow(first, rate=0.001, burst=1, now=0.0) is False
    assert ratelimit.allow(second, rate=0.001, burst=1, now=0.0) is True


def test_the_cache_forgets_the_least_recently_used_beyond_its_size():
    cache: BoundedCache[int] = BoundedCache(size=2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "b" is now the least recently used
    cache.put("c", 3)

    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)
    cache.pop("a")
    cache.pop("missing")
    assert cache.get("a") is None
