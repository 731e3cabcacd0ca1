"""How a connection entry is stored in a `conns` map (the user's map and every member item).

An entry is a small map: `ends`, when the connection's records expire, and `auth`, when its session
ends (its token's expiry, moved by `reauth`). An entry written before sessions were kept there is a
bare number (`ends`): it reads as a session lasting as long as the connection, which is what that
version did. Such entries are gone within a connection's lifetime of the upgrade.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from chat.models.domain import ConnectionEntry

ENDS = "ends"
AUTH = "auth"


def item(entry: ConnectionEntry) -> dict[str, int]:
    return {ENDS: entry.expires_at, AUTH: entry.session_expires_at}


def parse(value: Any) -> ConnectionEntry:
    if isinstance(value, int | Decimal):  # the previous version's entry: the expiry alone
        return ConnectionEntry(expires_at=int(value), session_expires_at=int(value))
    return ConnectionEntry(expires_at=int(value[ENDS]), session_expires_at=int(value[AUTH]))


def parse_map(values: dict[str, Any] | None) -> dict[str, ConnectionEntry]:
    return {str(cid): parse(value) for cid, value in (values or {}).items()}
