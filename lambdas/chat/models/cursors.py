"""Opaque paging cursors: what the client passes back to get the next page of its rooms.

A cursor is the base64url of a small JSON object naming the last room of the page. Clients must not
build or read one; anything that does not decode to that shape is refused, so a cursor from another
action or a hand-made one fails clearly instead of paging from an arbitrary place.
"""

from __future__ import annotations

import base64
import binascii
import json

from chat.models.errors import BadRequest

MAX_CURSOR_CHARS = 512
_BAD = "cursor is not one a rooms page gave: pass the previous page's cursor, or none for the first page"


def rooms_cursor(last_room_id: str) -> str:
    raw = json.dumps({"after": last_room_id}, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def room_after(cursor: str) -> str:
    """The room id a `rooms_cursor` names. Raises BadRequest for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError) as exc:
        raise BadRequest(_BAD) from exc
    after = value.get("after") if isinstance(value, dict) and len(value) == 1 else None
    if not isinstance(after, str) or not 1 <= len(after) <= 64:
        raise BadRequest(_BAD)
    return after
