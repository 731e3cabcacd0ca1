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


def knowing_people() -> State:
    state = in_room()
    state.people.update({"alice-id": "alice", "bob-id": "bob", "ann-id": "Ann Lee", "bob2-id": "Bob"})
    return state


def test_reply_sends_the_text_as_typed_with_the_parent_seq() -> None:
    frame = parse("""/reply 3 it's "fine"  now""", in_room())
    assert frame is not None
    assert {k: v for k, v in frame.items() if k != "clientMessageId"} == {
        "action": "sendMessage",
        "roomId": "room-1",
        "content": """it's "fine"  now""",
        "replyTo": 3,
    }
    assert frame["clientMessageId"]


@pytest.mark.parametrize("line", ["/reply 3", "/reply three yes", "/reply", "/reply #3 yes"])
def test_a_malformed_reply_shows_its_usage(line: str) -> None:
    with pytest.raises(UsageError, match=r"usage: /reply SEQ TEXT"):
        parse(line, in_room())


def test_at_names_of_people_seen_are_sent_as_mentions() -> None:
    """A word @NAME names everyone of that display name (spaces left out, any case), punctuation after
    it ignored; not yourself, nobody unknown, nothing inside a word (an e-mail address)."""
    frame = parse("@BOB, ask @annlee: (cc @alice @carol bob@example.com @bob)", knowing_people())
    assert frame is not None and frame["mentions"] == ["bob-id", "bob2-id", "ann-id"]
    reply = parse("/reply 7 thanks @AnnLee!", knowing_people())
    assert reply is not None and (reply["replyTo"], reply["mentions"]) == (7, ["ann-id"])


def test_a_message_naming_nobody_known_carries_no_mentions() -> None:
    frame = parse("hi @carol and @ alone", knowing_people())
    assert frame is not None and "mentions" not in frame


def test_at_most_twenty_mentions_are_sent() -> None:
    state = in_room()
    state.people.update({f"user-{n}": f"p{n}" for n in range(25)})
    frame = parse(" ".join(f"@p{n}" for n in range(25)), state)
    assert frame is not None and frame["mentions"] == [f"user-{n}" for n in range(20)]
