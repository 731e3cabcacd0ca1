"""Typed lines into frames: /edit and /delete name a message of the current room by its seq."""

from __future__ import annotations

import pytest

from chat_cli.commands import State, UsageError, parse


def in_room() -> State:
    return State(user_id="alice-id", current="room-1", names={"room-1": "general"})


def test_edit_sends_the_new_text_as_typed() -> None:
    frame = parse("""/edit 12 it's "fine"  now""", in_room())
    assert frame == {
        "action": "editMessage",
        "roomId": "room-1",
        "seq": 12,
        "content": """it's "fine"  now""",
    }


def test_delete_names_the_seq() -> None:
    assert parse("/delete 12", in_room()) == {"action": "deleteMessage", "roomId": "room-1", "seq": 12}


@pytest.mark.parametrize(
    "line", ["/edit 12", "/edit twelve text", "/edit", "/delete", "/delete 1 2", "/delete #1"]
)
def test_a_malformed_change_shows_its_usage(line: str) -> None:
    with pytest.raises(UsageError, match=r"usage: /(edit SEQ TEXT|delete SEQ)"):
        parse(line, in_room())


def test_a_change_needs_a_current_room() -> None:
    with pytest.raises(UsageError, match="no current room"):
        parse("/edit 1 text", State())
