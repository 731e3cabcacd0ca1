"""The room's delivery watermark: one small item per room, read and written by its fan-out only."""

from __future__ import annotations

from dataclasses import dataclass, field

from chat.dal import keys
from chat.dal.client import table

# Seqs skipped as never stored that are remembered, so that one stored late is still posted.
SKIPPED_KEPT = 100


@dataclass
class Watermark:
    room_id: str
    delivered: int  # every seq up to this one was posted (or skipped as never stored)
    skipped: list[int] = field(default_factory=list)
    # Every member item written before the online index existed has been read and indexed: a big
    # room's message fan-out may read the index (chat.logic.fanout_records).
    indexed: bool = False
    changed: bool = False  # since it was read: it must be written back


def get(room_id: str) -> Watermark:
    """The room's watermark (strongly consistent; 0 before the room's first message)."""
    item = table().get_item(Key=keys.delivered(room_id), ConsistentRead=True).get("Item") or {}
    return Watermark(
        room_id,
        int(item.get("seq", 0)),
        [int(seq) for seq in item.get("skipped", [])],
        indexed=bool(item.get("indexed", False)),
    )


def put(mark: Watermark) -> None:
    """Write it back (one writer per room: the FIFO queue runs one batch of a room at a time)."""
    table().update_item(
        Key=keys.delivered(mark.room_id),
        UpdateExpression="SET seq = :seq, skipped = :skipped, #indexed = :indexed",
        ExpressionAttributeNames={"#indexed": "indexed"},  # a reserved word
        ExpressionAttributeValues={
            ":seq": mark.delivered,
            ":skipped": mark.skipped[-SKIPPED_KEPT:],
            ":indexed": mark.indexed,
        },
    )
