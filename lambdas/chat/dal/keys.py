"""Key layout of the single table (PK/SK strings). Every key is built here and nowhere else."""

from __future__ import annotations

import zlib
from typing import Any

Key = dict[str, Any]

SEQ_DIGITS = 15
MEMBER_PREFIX = "MEMBER#"
ROOM_SK = "ROOM"
LAST_SK = "LAST"
DELIVERED_SK = "DELIVERED"
# The online index (dal/online.py): a global secondary index over the member items that have an
# entry. Its partition key is this attribute, a room and one of ONLINE_SHARDS shards, so a room's
# online members spread over that many index partitions (docs/DATA_MODEL.md, "The online index").
ONLINE_INDEX = "Online"
ONLINE_KEY = "onlineKey"
ONLINE_SHARDS = 4


def connection(connection_id: str) -> Key:
    return {"PK": f"CONN#{connection_id}", "SK": "CONN"}


def user_connections(user_id: str) -> Key:
    """One item per user: its open connections (at most the per-user cap), for the cap and fan-outs."""
    return {"PK": f"USER#{user_id}", "SK": "CONNS"}


def membership(user_id: str, room_id: str) -> Key:
    return {"PK": f"USER#{user_id}", "SK": f"ROOM#{room_id}"}


def profile(user_id: str) -> Key:
    return {"PK": f"USER#{user_id}", "SK": "PROFILE"}


def room_count(user_id: str) -> Key:
    """How many rooms the user is in (or has reserved a place in): the rooms-per-user cap."""
    return {"PK": f"USER#{user_id}", "SK": "ROOMS"}


def room_creation(user_id: str, client_room_id: str) -> Key:
    """A createRoom's idempotency record (its `clientRoomId`), for 24 hours."""
    return {"PK": f"USER#{user_id}", "SK": f"IDEMROOM#{client_room_id}"}


def user_partition(user_id: str) -> str:
    return f"USER#{user_id}"


def room(room_id: str) -> Key:
    return {"PK": room_partition(room_id), "SK": ROOM_SK}


def last_message(room_id: str) -> Key:
    return {"PK": room_partition(room_id), "SK": LAST_SK}


def delivered(room_id: str) -> Key:
    """The room's fan-out watermark: the highest seq posted live, in order (chat.logic.room_order)."""
    return {"PK": room_partition(room_id), "SK": DELIVERED_SK}


def room_member(room_id: str, user_id: str) -> Key:
    return {"PK": room_partition(room_id), "SK": f"{MEMBER_PREFIX}{user_id}"}


def online_key(room_id: str, user_id: str) -> str:
    """The member's shard of the room's online index: a stable hash of the user id (CRC-32)."""
    return online_shard(room_id, zlib.crc32(user_id.encode("utf-8")) % ONLINE_SHARDS)


def online_shard(room_id: str, shard: int) -> str:
    return f"ROOM#{room_id}#{shard}"


def room_partition(room_id: str) -> str:
    return f"ROOM#{room_id}"


def message_sk(seq: int) -> str:
    """Zero-padded so that string order is seq order."""
    return f"MSG#{seq:0{SEQ_DIGITS}d}"


def message(room_id: str, seq: int) -> Key:
    return {"PK": room_partition(room_id), "SK": message_sk(seq)}


def idempotency(room_id: str, sender_id: str, client_message_id: str) -> Key:
    return {"PK": room_partition(room_id), "SK": f"IDEM#{sender_id}#{client_message_id}"}


MEMBERSHIP_PREFIX = "ROOM#"
MESSAGE_PREFIX = "MSG#"
