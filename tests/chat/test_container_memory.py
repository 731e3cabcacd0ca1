"""The per-container state: the per-(connection, action) token buckets and the bounded caches (no I/O)."""

from __future__ import annotations

from chat.logic import ratelimit
from chat.logic.ratelimit import RateLimit
from chat.lru import BoundedCache

from tests.chat.harness import new_connection_id


def test_the_bucket_allows_a_burst_then_refills_at_the_rate():
    connection = new_connection_id()
    limit = RateLimit(rate_per_second=2, burst=3)
    allowed = [ratelimit.allow(connection, "sendMessage", limit, now=100.0) for _ in range(4)]
    assert allowed == [True, True, True, False]

    assert ratelimit.allow(connection, "sendMessage", limit, now=100.4) is False  # 0.8 of a token
    assert ratelimit.allow(connection, "sendMessage", limit, now=100.5) is True  # 1 token after 0.5 s
    refilled = [ratelimit.allow(connection, "sendMessage", limit, now=200.0) for _ in range(4)]
    assert refilled == [True] * 3 + [False]


def test_buckets_are_per_connection_and_action():
    first, second = new_connection_id(), new_connection_id()
    once = RateLimit(rate_per_second=0.001, burst=1)
    assert ratelimit.allow(first, "joinRoom", once, now=0.0) is True
    assert ratelimit.allow(first, "joinRoom", once, now=0.0) is False
    assert ratelimit.allow(first, "leaveRoom", once, now=0.0) is True
    assert ratelimit.allow(second, "joinRoom", once, now=0.0) is True


def test_typing_is_once_per_room_per_interval():
    connection = new_connection_id()
    sent = [
        ratelimit.allow_typing(connection, "r-1", interval_seconds=2, now=10.0 + i * 0.1) for i in range(20)
    ]
    assert sent == [True] + [False] * 19
    assert ratelimit.allow_typing(connection, "r-2", interval_seconds=2, now=10.0) is True  # another room
    assert ratelimit.allow_typing(connection, "r-1", interval_seconds=2, now=12.0) is True  # 2 s later


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
