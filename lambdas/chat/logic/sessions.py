"""Connections and their tokens: connect, disconnect (also after a 410), expiry, reauth, liveness."""

from __future__ import annotations

from chat.dal import connections, rooms
from chat.memory import BoundedCache
from chat.models.domain import Caller
from chat.models.errors import TokenExpired
from chat.timeutil import iso

# API Gateway closes a connection after 2 hours: its records outlive that a little, then expire.
CONNECTION_TTL_SECONDS = 2 * 3600 + 10 * 60
# ping writes the connection's lastSeenAt at most this often per connection (per container).
LIVENESS_INTERVAL_SECONDS = 300

_extended_expiry: BoundedCache[int] = BoundedCache()
_last_touched: BoundedCache[float] = BoundedCache()


def connect(caller: Caller, now: float) -> None:
    """Record the connection both ways, then add it to the index of every room the user is in.

    The records are written first, so that a room joined meanwhile finds the connection in them.
    """
    connections.put(caller, connected_at=iso(now), ttl=int(now) + CONNECTION_TTL_SECONDS)
    room_ids = [membership.room_id for membership in rooms.memberships(caller.user_id)]
    rooms.index_connection_in(room_ids, caller.connection_id, caller.user_id)


def drop(connection_id: str, user_id: str) -> None:
    """Forget a connection everywhere: room indexes, then both records. Safe to repeat."""
    rooms.unindex_connection_in(
        [membership.room_id for membership in rooms.memberships(user_id)], connection_id
    )
    connections.delete(connection_id, user_id)
    _extended_expiry.pop(connection_id)
    _last_touched.pop(connection_id)


def ensure_token_valid(caller: Caller, now: float) -> None:
    """Raise TokenExpired once the connection's token has expired.

    The expiry from the authorizer is checked first, at no cost; only past it is the connection
    record read, to see whether a `reauth` (possibly served by another container) extended it.
    """
    if now < caller.token_expires_at:
        return
    extended = _extended_expiry.get(caller.connection_id)
    if extended is None or now >= extended:
        record = connections.get(caller.connection_id)
        extended = record.token_expires_at if record is not None else 0
        _extended_expiry.put(caller.connection_id, extended)
    if now >= extended:
        raise TokenExpired()


def remember_expiry(connection_id: str, expires_at: int) -> None:
    """Note an extended expiry (after reauth) so this container need not read it back."""
    _extended_expiry.put(connection_id, expires_at)


def expiry(caller: Caller) -> int:
    """The connection's token expiry now: from the authorizer, or from the last reauth."""
    record = connections.get(caller.connection_id)
    return max(caller.token_expires_at, record.token_expires_at if record is not None else 0)


def keep_alive(caller: Caller, now: float) -> None:
    """Refresh the connection record's lastSeenAt, at most once per interval per connection."""
    last = _last_touched.get(caller.connection_id)
    if last is not None and now - last < LIVENESS_INTERVAL_SECONDS:
        return
    _last_touched.put(caller.connection_id, now)
    connections.touch(caller.connection_id, iso(now))
