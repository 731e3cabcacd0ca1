"""docs/PROTOCOL.md's "Limits at a glance" states each environment's settings as cdk.json ships them."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENVIRONMENTS = ("dev", "staging", "prod")


def glance_rows() -> dict[str, list[str]]:
    """Setting name -> the dev / staging / prod values of its row (rows that name one setting)."""
    text = (ROOT / "docs" / "PROTOCOL.md").read_text()
    section = text.split("## Limits at a glance", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, list[str]] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 4 and re.fullmatch(r"`[a-z_]+`", cells[2]):
            rows[cells[2].strip("`")] = [value.strip() for value in cells[1].split("/")]
    return rows


def shipped(setting: str) -> list[str]:
    environments = json.loads((ROOT / "cdk.json").read_text())["context"]["environments"]
    return [f"{environments[env][setting]:g}" for env in ENVIRONMENTS]


def test_every_setting_row_matches_cdk_json() -> None:
    rows = glance_rows()
    assert len(rows) >= 12  # the table was found and read
    for setting, values in rows.items():
        assert values == shipped(setting), setting


def test_every_limit_setting_a_client_can_meet_has_a_row() -> None:
    client_visible = {
        "max_connections_per_user",
        "max_rooms_per_user",
        "max_room_members",
        "presence_max_members",
        "message_max_length",
        "typing_interval_seconds",
        "session_grace_seconds",
        "id_token_validity_minutes",
        "throttle_rate_limit",
        "throttle_burst_limit",
        "broadcast_throttle_rate_limit",
        "broadcast_throttle_burst_limit",
    }
    assert client_visible <= set(glance_rows())
