"""Reply sizes against API Gateway's WebSocket message limit of 128 KB.

API Gateway sends no message over 128 KB (131,072 bytes) to a client, whether a route reply or an
`@connections` post. A reply that lists things (`messages`, `rooms`) therefore stops at a byte budget
when its items are long, before its `limit`. Sizes are measured on the encoding the replies are sent
in (`encode`: UTF-8 JSON with characters beyond ASCII as they are), so the budget is exact.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

T = TypeVar("T")

MESSAGE_LIMIT_BYTES = 128 * 1024
# What a listing reply may hold besides its items: `type`, `roomId` (64 characters), `hasMore` or
# `cursor`, `requestId` (64 characters). Its largest is under 2 KB, even with every character a
# 6-byte `\u` escape (tests/chat/test_budgets.py builds it); 8 KB is a margin of more than 4x.
ENVELOPE_RESERVE_BYTES = 8 * 1024
ITEMS_BUDGET_BYTES = MESSAGE_LIMIT_BYTES - ENVELOPE_RESERVE_BYTES  # 122,880
# A reply's quote, read after its page is cut: its largest encoding (a 15-digit seq, a 36-character
# messageId, a 128-character senderId, a 64-character displayName and a 100-character excerpt, all of
# 4-byte characters) is about 1,300 bytes (tests/chat/test_replies_and_mentions.py builds it).
QUOTE_RESERVE_BYTES = 1536
_SEPARATOR_BYTES = len(", ")  # between the items of a JSON array, as `encode` writes it


def encode(frame: Any) -> str:
    """A frame as every reply is sent (its UTF-8 bytes are what API Gateway counts)."""
    return json.dumps(frame, ensure_ascii=False)


def encoded_size(value: Any) -> int:
    return len(encode(value).encode("utf-8"))


def take(
    items: Iterable[T], limit: int, wire: Callable[[T], Any], *, reserve: Callable[[T], int] = lambda _: 0
) -> tuple[list[T], bool]:
    """The first items, up to `limit`, whose `wire` forms (and the bytes `reserve` keeps for what an
    item gains once the page is cut) fit in the budget as one JSON array, and whether any item was
    left out.

    `items` is consumed lazily and at most one past the page, so a reader that fetches as it is
    iterated stops near the budget. A page holds at least one item when there is one: a single
    message or room listing is far under the budget (content is at most 5,000 characters).
    """
    taken: list[T] = []
    used = len("[]")
    for item in items:
        if len(taken) == limit:
            return taken, True
        size = encoded_size(wire(item)) + reserve(item) + (_SEPARATOR_BYTES if taken else 0)
        if taken and used + size > ITEMS_BUDGET_BYTES:
            return taken, True
        taken.append(item)
        used += size
    return taken, False
