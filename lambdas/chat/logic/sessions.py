"""Connections and their tokens: connect, disconnect (also after a 410), expiry, reauth, liveness,
and what becomes of a connection whose session ended."""

from __future__ import annotations

from dataclasses import dataclass, field

from chat.dal import connections, members
from chat.dal.client import in_parallel
from chat.dal.connections import Notice
from chat.logic import presence
from chat.lru import BoundedCache
from chat.models.domain import Caller, ConnectionEntry
from chat.models.errors import TokenExpired
from chat.notify import Notifier
from chat.observability import logger
from chat.timeutil import iso

# API Gateway closes a connection after 2 hours: its records outlive that a little, then expire.
CONNECTION_TTL_SECONDS = 2 * 3600 + 10 * 60
# ping writes the connection's lastSeenAt at most this often per connection (per container).
LIVENESS_INTERVAL_SECONDS = 300
# API Gateway answers 410 to a post to a connection whose `$connect` has not returned yet, and that
# integration may run 29 s: a 410 within this long of the connect proves nothing.
CONNECTING_SECONDS = 30

_extended_expiry: BoundedCache[int] = BoundedCache()
_last_touched: BoundedCache[float] = BoundedCache()


def connect(caller: Caller, now: float, *, max_connections: int, notifier: Notifier) -> None:
    """Record the connection, then add it to the member item of every room the user is in.

    Raises TooManyConnections (nothing stored) when the user holds `max_connections` already. The
    records are written first, so that a room joined meanwhile finds the connection in them. Any
    other failure refuses the handshake: what was written is removed before the error is raised.
    """
    try:
        _open(caller, now, max_connections=max_connections, notifier=notifier)
    except connections.TooManyConnections:
        raise
    except Exception:
        _forget_refused(caller, now=now, notifier=notifier)
        raise


def _open(caller: Caller, now: float, *, max_connections: int, notifier: Notifier) -> None:
    expires_at = int(now) + CONNECTION_TTL_SECONDS
    connections.put(
        caller, connected_at=iso(now), expires_at=expires_at, max_connections=max_connections, now=now
    )
    entry = ConnectionEntry(expires_at, caller.token_expires_at)
    room_ids = [membership.room_id for membership in members.memberships(caller.user_id)]
    came_online = in_parallel(
        lambda room_id: members.attach(
            room_id, caller.user_id, caller.connection_id, entry, caller.name, now
        ),
        room_ids,
    )
    online_in = [room_id for room_id, online in zip(room_ids, came_online, strict=True) if online]
    presence.announce(online_in, caller.user_id, caller.name, online=True, notifier=notifier)


def drop(
    connection_id: str, user_id: str, *, now: float, notifier: Notifier, display_name: str | None = None
) -> None:
    """Forget a connection everywhere: rooms' member items, then its records. Safe to repeat."""
    room_ids = [membership.room_id for membership in members.memberships(user_id)]
    went_offline = in_parallel(lambda room_id: members.detach(room_id, user_id, connection_id, now), room_ids)
    offline_in = [room_id for room_id, offline in zip(room_ids, went_offline, strict=True) if offline]
    if offline_in and display_name is None:
        display_name = connections.display_name(user_id)
    connections.delete(connection_id, user_id)
    _extended_expiry.pop(connection_id)
    _last_touched.pop(connection_id)
    presence.announce(offline_in, user_id, display_name or "", online=False, notifier=notifier)


def drop_gone(connection_id: str, user_id: str, *, now: float, notifier: Notifier) -> bool:
    """A post or a close was answered 410: forget the connection, unless it may still be connecting.

    `$connect` writes the records and member entries before it returns, and the connection is
    established only once it has returned: a fan-out that meets the entry meanwhile gets 410 too. So
    a connection whose record says it began connecting less than `CONNECTING_SECONDS` ago keeps its
    records (it catches up on what it missed by resuming by `seq`); one that really closed that soon
    is removed by its `$disconnect`, or by a later 410 or its expiry. Returns whether it was dropped.
    """
    record = connections.get(connection_id)
    if record is not None and now - record.connected_at < CONNECTING_SECONDS:
        return False
    drop(connection_id, user_id, now=now, notifier=notifier)
    return True


def _forget_refused(caller: Caller, *, now: float, notifier: Notifier) -> None:
    """A refused handshake leaves nothing stored: remove what its connect wrote (a write may have
    been applied even when its reply was lost). If this fails too, the records expire (TTL)."""
    try:
        drop(caller.connection_id, caller.user_id, now=now, notifier=notifier, display_name=caller.name)
    except Exception:
        logger.exception("could not remove a refused connection's records")


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


def extend(caller: Caller, expires_at: int) -> None:
    """Move the session's expiry to `expires_at` (a reauth) everywhere it is kept.

    First the connection record (what `ensure_token_valid` and the fan-out's notice check read),
    then the entry in the user's map (joins and new rooms copy it) and in each of the user's member
    items (the fan-out reads them), up to 8 at a time. Raises TokenExpired when the record is gone.
    """
    entry = connections.extend_token(caller.connection_id, expires_at)
    if entry is None:
        raise TokenExpired()
    _extended_expiry.put(caller.connection_id, expires_at)
    connections.renew(caller.user_id, caller.connection_id, entry)
    room_ids = [membership.room_id for membership in members.memberships(caller.user_id)]
    in_parallel(lambda room_id: members.renew(room_id, caller.user_id, caller.connection_id, entry), room_ids)


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


@dataclass
class EndedSessions:
    """What to do with the open connections a fan-out found with an ended session (id -> user id)."""

    # sessionExpired frames to post: (session expiry, grace deadline) -> connections
    tell: dict[tuple[int, int], dict[str, str]] = field(default_factory=dict)
    close: dict[str, str] = field(default_factory=dict)  # past the grace: DeleteConnection
    renewed: dict[str, str] = field(default_factory=dict)  # a reauth came first: deliver to them
    gone: dict[str, str] = field(default_factory=dict)  # no live record: forget them


def sort_ended(ended: dict[str, str], *, now: float, grace_seconds: int, claimant: str) -> EndedSessions:
    """Ask each connection's record (one conditional write each, 8 at a time) what its ended session
    needs: to be told (exactly one fan-out wins that, per expiry), closed once the grace is over,
    nothing yet, or delivery after all (a reauth the member items did not show yet).

    `claimant` names this fan-out on the records it claims (its Lambda request id, kept on Lambda's
    retries): a claim whose reply was lost is still this fan-out's to tell.
    """
    connection_ids = list(ended)
    notices = in_parallel(
        lambda connection_id: connections.claim_expiry_notice(connection_id, now, claimant), connection_ids
    )
    sorted_out = EndedSessions()
    for connection_id, found in zip(connection_ids, notices, strict=True):
        user_id = ended[connection_id]
        closes_at = found.session_expires_at + grace_seconds
        if found.notice is Notice.CLAIMED:
            sorted_out.tell.setdefault((found.session_expires_at, closes_at), {})[connection_id] = user_id
        elif found.notice is Notice.TOLD and now >= closes_at:
            sorted_out.close[connection_id] = user_id
        elif found.notice is Notice.RENEWED:
            sorted_out.renewed[connection_id] = user_id
        elif found.notice is Notice.GONE:
            sorted_out.gone[connection_id] = user_id
    return sorted_out
