"""Who was mentioned where: each membership keeps the seqs of the room's messages that mention its
user (a number set), so `listRooms` counts the unread ones from the item it reads anyway.

A send adds its seq to each mentioned member's set, a delete takes it out, and `markRead` prunes
the seqs at or below the new read position. A set holds at most MAX_KEPT seqs: past it, later
mentions are not counted (a client shows "99+"), until a `markRead` makes room.
"""

from __future__ import annotations

from chat.dal import keys
from chat.dal.client import in_parallel, update_if

MAX_KEPT = 100


def note(room_id: str, seq: int, user_ids: tuple[str, ...]) -> None:
    """Add `seq` to each member's set (one UpdateItem each, up to 8 at once); a member who left
    meanwhile, or whose set is full, is skipped."""

    def add(user_id: str) -> bool:
        return update_if(
            Key=keys.membership(user_id, room_id),
            UpdateExpression="ADD mentionSeqs :s",
            ConditionExpression=(
                "attribute_exists(PK) AND (attribute_not_exists(mentionSeqs) OR size(mentionSeqs) < :most)"
            ),
            ExpressionAttributeValues={":s": {seq}, ":most": MAX_KEPT},
        )

    in_parallel(add, user_ids)


def forget(room_id: str, seq: int, user_ids: tuple[str, ...]) -> None:
    """Take `seq` out of each member's set (a deleted message no longer counts)."""

    def remove(user_id: str) -> bool:
        return update_if(
            Key=keys.membership(user_id, room_id),
            UpdateExpression="DELETE mentionSeqs :s",
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeValues={":s": {seq}},
        )

    in_parallel(remove, user_ids)
