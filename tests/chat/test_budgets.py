"""Every reply fits API Gateway's 128 KB message limit: getMessages and listRooms stop at a byte budget.

Sizes are measured on the body the function returns (what API Gateway would send, UTF-8).
"""

from __future__ import annotations

import base64
import json
from typing import Any

from chat.models import budget, frames
from chat.models.domain import Message
from chat.models.errors import InternalError
from hypothesis import given, settings
from hypothesis import strategies as st

import route_keys
from tests.chat.harness import ClientConnection, User, dynamodb_requests, settle
from tests.chat.test_fanout import emitted_metrics, metric_total
from tests.chat.test_rooms import make_room

LIMIT = 128 * 1024
LONG = "😀" * 5000  # the longest content: 20,000 bytes of UTF-8


def reply(connection: ClientConnection, action: str, **fields: Any) -> tuple[dict[str, Any], int]:
    """The direct reply and its size in bytes as sent."""
    response = connection.raw(json.dumps({"action": action, **fields}), route_key=action)
    body = response["body"]
    return json.loads(body), len(body.encode("utf-8"))


def send_long(connection: ClientConnection, room_id: str, content: str) -> None:
    """sendMessage as a client sends it: UTF-8 (escaped, 5,000 emoji would be over the 32 KB frame).
    Its fan-out runs in the background: `settle()` before counting requests."""
    body = json.dumps({"action": "sendMessage", "roomId": room_id, "content": content}, ensure_ascii=False)
    response = connection.raw(body, route_key="sendMessage", settle_after=False)
    assert json.loads(response["body"])["type"] == "ack", response


def test_the_budget_leaves_room_for_the_largest_envelope() -> None:
    worst_id = "\x01" * 64  # 64 characters, each a 6-byte escape in JSON
    envelopes = [
        {**frames.messages(worst_id, [], True), "requestId": worst_id},
        {**frames.rooms([], cursor="x" * 400), "requestId": worst_id},
    ]
    for envelope in envelopes:
        assert budget.encoded_size(envelope) < 2048
        assert budget.ITEMS_BUDGET_BYTES + budget.encoded_size(envelope) <= LIMIT


def test_take_fills_the_budget_exactly_and_says_what_was_left() -> None:
    one = {"content": "é" * 1000}  # 2,000 bytes of content
    size = budget.encoded_size(one)
    fitting = (budget.ITEMS_BUDGET_BYTES - 2 + 2) // (size + 2)  # "[]", and ", " between items
    items = [one] * (fitting + 5)

    assert budget.take(items, 100, dict) == (items[:fitting], True)
    assert budget.take(items[:fitting], 100, dict) == (items[:fitting], False)
    assert budget.take(items, 3, dict) == (items[:3], True)
    assert budget.take(items[:3], 3, dict) == (items[:3], False)
    assert budget.take([], 3, dict) == ([], False)
    huge = {"content": "x" * 200_000}
    assert budget.take([huge, one], 100, dict) == ([huge], True)  # a page always makes progress


def test_take_reads_at_most_one_item_past_the_page() -> None:
    read: list[int] = []

    def reader():
        for i in range(1000):
            read.append(i)
            yield {"content": "x" * 30_000}

    page, more = budget.take(reader(), 100, dict)
    assert more is True and len(read) == len(page) + 1 == 5


def test_get_messages_stops_at_the_byte_budget_and_pages_through_every_message_once(chat_env) -> None:
    a = User().connect()
    room_id = make_room(a)
    count = 14  # ~20 KB each: six fit a page
    for i in range(count):
        send_long(a, room_id, LONG[: 5000 - i - 1] + str(i))
    settle()  # the sends' fan-outs have run: only the reply's own requests are counted

    with dynamodb_requests() as sent:
        newest, size = reply(a, "getMessages", roomId=room_id)
    assert sent == ["GetItem", "Query"]  # the membership, then 16 messages (not 51: up to 1 MB)
    assert size <= LIMIT
    assert 1 < len(newest["items"]) < count and newest["hasMore"] is True
    assert [m["seq"] for m in newest["items"]] == list(range(count - len(newest["items"]) + 1, count + 1))

    backwards: list[int] = []
    page = newest
    while True:
        backwards = [m["seq"] for m in page["items"]] + backwards
        if not page["hasMore"]:
            break
        page, size = reply(a, "getMessages", roomId=room_id, before=page["items"][0]["seq"])
        assert size <= LIMIT
    assert backwards == list(range(1, count + 1))

    forwards: list[int] = []
    after = 0
    while True:
        page, size = reply(a, "getMessages", roomId=room_id, after=after, limit=100)
        assert size <= LIMIT
        forwards += [m["seq"] for m in page["items"]]
        if not page["hasMore"]:
            break
        after = page["items"][-1]["seq"]
    assert forwards == list(range(1, count + 1))
    assert len(page["items"]) < count  # forwards pages were cut by the budget too
    contents = {m["seq"]: m["content"] for m in newest["items"]}
    assert contents[count] == LONG[: 5000 - count] + str(count - 1)


def test_short_messages_still_fill_a_page_to_its_limit(chat_env) -> None:
    a = User().connect()
    room_id = make_room(a)
    for i in range(5):
        a.send("sendMessage", roomId=room_id, content=f"m{i}", settle=False)
    page, _ = reply(a, "getMessages", roomId=room_id, limit=5)
    assert len(page["items"]) == 5 and page["hasMore"] is False


def test_a_reply_over_the_limit_becomes_a_retryable_internal_error(chat_env, monkeypatch, capsys) -> None:
    a = User().connect()
    room_id = make_room(a)
    a.send("sendMessage", roomId=room_id, content="hi")
    huge = Message(room_id, "m", 1, "u", "x" * LIMIT, "2026-01-01T00:00:00.000Z")
    monkeypatch.setattr(
        frames, "messages", lambda room, items, more: {"type": "messages", "items": [huge.wire()]}
    )
    capsys.readouterr()

    answer, size = reply(a, "getMessages", roomId=room_id, requestId="big")

    assert size <= LIMIT
    assert answer == {
        "type": "error",
        "code": InternalError.code,
        "message": InternalError().message,
        "retryable": True,
        "action": route_keys.GET_MESSAGES,
        "requestId": "big",
    }
    assert metric_total(emitted_metrics(capsys.readouterr().out), "OversizedReplies") == 1


def all_rooms(connection: ClientConnection, **fields: Any) -> tuple[list[str], list[dict[str, Any]]]:
    """Page through listRooms: every room id in page order, and each page."""
    seen: list[str] = []
    pages: list[dict[str, Any]] = []
    cursor = None
    while True:
        page, size = reply(connection, "listRooms", **fields, **({"cursor": cursor} if cursor else {}))
        assert page["type"] == "rooms" and size <= LIMIT
        pages.append(page)
        seen += [item["roomId"] for item in page["items"]]
        cursor = page["cursor"]
        if cursor is None:
            return seen, pages
        assert isinstance(cursor, str)


def test_list_rooms_pages_through_every_room_exactly_once_whatever_the_limit(chat_env) -> None:
    alice = User()
    a = alice.connect()
    rooms = {make_room(a, name=f"room {i}") for i in range(9)}
    for room_id in sorted(rooms)[:3]:
        a.send("sendMessage", roomId=room_id, content="recent", settle=False)

    @settings(max_examples=12, deadline=None, database=None)
    @given(limit=st.integers(min_value=1, max_value=11))
    def pages_hold_each_room_once(limit: int) -> None:
        seen, pages = all_rooms(a, limit=limit)
        assert len(seen) == len(set(seen)) and set(seen) == rooms
        assert all(len(page["items"]) <= limit for page in pages)
        assert len(pages) == -(-len(rooms) // limit)  # no empty last page

    pages_hold_each_room_once()
    first, _ = reply(a, "listRooms")
    assert first["cursor"] is None and len(first["items"]) == 9  # the default limit is 50
    assert {item["roomId"] for item in first["items"][:3]} == set(sorted(rooms)[:3])  # recent first


def test_list_rooms_stops_at_the_byte_budget_when_last_messages_are_long(chat_env) -> None:
    alice, bob = User(), User()
    a, b = alice.connect(), bob.connect()
    rooms = {make_room(a, bob, name=f"long {i}") for i in range(12)}
    for room_id in rooms:
        send_long(a, room_id, LONG)
    settle()  # the sends' fan-outs have run: only the reply's own requests are counted

    with dynamodb_requests() as sent:
        first, _ = reply(b, "listRooms")
    assert sent == ["Query", "BatchGetItem"]  # the memberships, then the first 16 rooms' items
    assert first["cursor"] is not None
    seen, pages = all_rooms(b)

    assert sorted(seen) == sorted(rooms)
    assert len(pages) >= 2 and all(len(page["items"]) < 12 for page in pages)
    assert all(item["lastMessage"]["content"] == LONG for page in pages for item in page["items"])


def test_list_rooms_refuses_a_cursor_it_did_not_give_and_an_out_of_range_limit(chat_env) -> None:
    a = User().connect()
    make_room(a)
    not_a_room_cursor = base64.urlsafe_b64encode(b'{"before": "r"}').decode()
    for fields in (
        {"cursor": "not a cursor!"},
        {"cursor": not_a_room_cursor},
        {"cursor": base64.urlsafe_b64encode(b"[1]").decode()},
        {"cursor": "x" * 513},
        {"cursor": 7},
        {"cursor": ""},
        {"limit": 0},
        {"limit": 101},
        {"limit": "5"},
    ):
        answer, _ = reply(a, "listRooms", **fields)
        assert answer["code"] == "BAD_REQUEST", fields
    answer, _ = reply(a, "listRooms", cursor="not a cursor!")
    assert "cursor" in answer["message"] and "previous page" in answer["message"]
