"""Reply sizes against API Gateway's WebSocket message limit of 128 KB.

API Gateway sends no message over 128 KB (131,072 bytes) to a client, whether a route reply or an
`@connections` post. A reply that lists things (`messages`, `rooms`) therefore stops at a byte budget
when its items are long, before its `limit`. Sizes are measured on the encoding the replies are sent
in (`encode`: UTF-8 JSON with characters beyond ASCII as they are), so the budget is exact.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

MESSAGE_LIMIT_BYTES = 128 * 1024
# What a listing reply may hold besides its items: `type`, `roomId` (64 characters), `hasMore` or
# `cursor`, `requestId` (64 characters). Its largest is under 2 KB, even with every character a
# 6-byte `\u` escape (tests/chat/test_budgets.py builds it); 8 KB is a margin of more than 4x.
ENVELOPE_RESERVE_BYTES = 8 * 1024
ITEMS_BUDGET_BYTES = MESSAGE_LIMIT_BYTES - ENVELOPE_RESERVE_BYTES  # 122,880
_SEPARATOR_BYTES = len(", ")  # between the items of a JSON array, as `encode` writes it


def encode(frame: Any) -> str:
    """A frame as every reply is sent (its UTF-8 bytes are what API Gateway counts)."""
    return json.dumps(frame, ensure_ascii=False)


def encoded_size(value: Any) -> int:
    return len(encode(value).encode("utf-8"))


def fitting(items: Iterable[Any], budget: int = ITEMS_BUDGET_BYTES) -> int:
    """How many of `items`, from the first, fit in `budget` bytes as one JSON array.

    Never fewer than one when there are items: a page always makes progress (a single message or
    room listing is far under the budget: content is at most 5,000 characters).
    """
    used = len("[]")
    fitted = 0
    for item in items:
        used += encoded_size(item) + (_SEPARATOR_BYTES if fitted else 0)
        if fitted and used > budget:
            break
        fitted += 1
    return fitted
