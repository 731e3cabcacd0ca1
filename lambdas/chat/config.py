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

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        return cls(
            message_max_length=int(environ.get("MESSAGE_MAX_LENGTH", "5000")),
            send_rate_per_second=float(environ.get("SEND_RATE_PER_SECOND", "5")),
            send_burst=int(environ.get("SEND_BURST", "10")),
            require_verified_sender=environ.get("REQUIRE_VERIFIED_SENDER", "false").strip().lower() == "true",
            connections_endpoint=environ.get("CONNECTIONS_ENDPOINT") or None,
        )
