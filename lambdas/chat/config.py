"""Settings from the function's environment (set by the stack; see docs/ARCHITECTURE.md)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    message_max_length: int
    send_rate_per_second: float
    send_burst: int
    require_verified_sender: bool
    connections_endpoint: str | None
    # Rooms that scale (docs/DATA_MODEL.md): a room's member cap, a user's open connections, the
    # largest room that hears about people (joins, leaves, presence, typing, read receipts).
    max_room_members: int
    max_connections_per_user: int
    presence_max_members: int
    # The fan-out: the function that posts, and how many connections one invocation posts to.
    fanout_function_name: str | None
    fanout_batch_size: int

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        return cls(
            message_max_length=int(environ.get("MESSAGE_MAX_LENGTH", "5000")),
            send_rate_per_second=float(environ.get("SEND_RATE_PER_SECOND", "5")),
            send_burst=int(environ.get("SEND_BURST", "10")),
            require_verified_sender=environ.get("REQUIRE_VERIFIED_SENDER", "false").strip().lower() == "true",
            connections_endpoint=environ.get("CONNECTIONS_ENDPOINT") or None,
            max_room_members=int(environ.get("MAX_ROOM_MEMBERS", "10000")),
            max_connections_per_user=int(environ.get("MAX_CONNECTIONS_PER_USER", "10")),
            presence_max_members=int(environ.get("PRESENCE_MAX_MEMBERS", "100")),
            fanout_function_name=environ.get("FANOUT_FUNCTION_NAME") or None,
            fanout_batch_size=int(environ.get("FANOUT_BATCH_SIZE", "500")),
        )
