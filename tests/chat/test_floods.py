"""Floods from one connection, at the limits the stack ships: limited before any DynamoDB request, and
nothing from the refused frames reaches anyone (checked at the receiving connections, through the
real fan-out path)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from chat import config
from chat.logic.ratelimit import RateLimit

from tests.chat.baseline import RATE_LIMITED
from tests.chat.harness import ClientConnection, User, dynamodb_requests
from tests.chat.test_rooms import frames_of, make_room

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = json.loads((ROOT / "cdk.json").read_text())["context"]["environments"]
# cdk.json's setting for each limited action.
SETTING = {
    "createRoom": "create_room",
    "joinRoom": "join_room",
    "leaveRoom": "leave_room",
    "sendMessage": "send",
    "editMessage": "edit_message",
    "deleteMessage": "delete_message",
    "markRead": "mark_read",
    "reauth": "reauth",
}


@pytest.fixture
def shipped_limits(function_env, monkeypatch):
    """The functions with the parsers' defaults for every limit (what cdk.json ships, below), and
    the routes' clock standing still: a burst is a burst however slow the machine is (on a busy
    one, 40 frames once took more than the 4 s in which the bucket refills 20)."""
    started = time.time()
    monkeypatch.setattr("chat.handlers.pipeline.now", lambda: started)
    function_env.delete(
        "SEND_RATE_PER_SECOND",
        "SEND_BURST",
        "TYPING_INTERVAL_SECONDS",
        *(f"{prefix}_{kind}" for prefix in RATE_LIMITED for kind in ("RATE_PER_SECOND", "BURST")),
    )


def flood(action: str, frames: int, send: Callable[[int], dict[str, Any]]) -> tuple[list[dict], list[dict]]:
    """Send `frames` frames as fast as they go; the replies that passed and those RATE_LIMITED.

    The ones that passed are the first ones: the burst, plus what the bucket refilled meanwhile.
    """
    limit = config.RATE_LIMITED_ACTIONS[action][1]
    started = time.monotonic()
    replies = [send(i) for i in range(frames)]
    refilled = int(limit.rate_per_second * (time.monotonic() - started)) + 1
    passed = [r for r in replies if r.get("code") != "RATE_LIMITED"]
    assert limit.burst <= len(passed) <= limit.burst + refilled, (len(passed), limit, refilled)
    assert all(r["retryable"] is True for r in replies if r.get("code") == "RATE_LIMITED")
    return passed, [r for r in replies if r.get("code") == "RATE_LIMITED"]


def everything_delivered(server, *connections: ClientConnection) -> str:
    return json.dumps([server.frames(c.connection_id) for c in connections], ensure_ascii=False)


@pytest.mark.parametrize("env_name", sorted(SHIPPED))
def test_the_parsers_defaults_are_what_every_environment_ships(env_name: str) -> None:
    env = SHIPPED[env_name]
    for action, (_, default) in config.RATE_LIMITED_ACTIONS.items():
        setting = SETTING[action]
        assert default == RateLimit(env[f"{setting}_rate_per_second"], env[f"{setting}_burst"]), action
    parsed = config.ChatSettings.from_environ({config.TABLE_NAME: "t"})
    assert parsed.typing_interval_seconds == env["typing_interval_seconds"]
    assert parsed.max_rooms_per_user == env["max_rooms_per_user"]


def test_100_typing_frames_reach_the_other_member_once(chat_env, shipped_limits):
    alice, bob = User(), User()
    a, b = alice.connect(), bob.connect()
    room_id = make_room(a, bob)
    other_room = make_room(a, bob)

    assert a.send("typing", roomId=room_id) is None
    with dynamodb_requests() as sent:
        dropped = [a.send("typing", roomId=room_id) for _ in range(99)]
    assert a.send("typing", roomId=other_room) is None  # another room has its own interval

    assert dropped == [None] * 99  # dropped silently: no reply, not even an error
    assert sent == []  # and no DynamoDB request
    assert [f["roomId"] for f in frames_of(chat_env, b, "typing")] == [room_id, other_room]


def test_60_join_and_leave_in_a_burst_are_limited_and_the_limited_ones_reach_nobody(
    chat_env, shipped_limits, lambda_server
):
    alice, bob = User(), User()
    a, b = alice.connect(), bob.connect()
    room_id = make_room(a, open_=True)
    before = len(chat_env.frames(a.connection_id))
    replies = []
    with lambda_server.held():  # a burst: the fan-outs wait (as they may on Lambda), the sends do not
        for i in range(60):
            action = "joinRoom" if i % 2 == 0 else "leaveRoom"
            with dynamodb_requests() as sent:
                replies.append(b.send(action, roomId=room_id, settle=False))
            if replies[-1].get("code") == "RATE_LIMITED":
                assert sent == []
            else:
                assert replies[-1]["type"] in ("joined", "left", "error")
    lambda_server.drain()

    limited = [r for r in replies if r.get("code") == "RATE_LIMITED"]
    burst = config.RATE_LIMITED_ACTIONS["joinRoom"][1].burst
    assert [r["type"] for r in replies[: 2 * burst]] == ["joined", "left"] * burst
    assert len(limited) >= 10 and all(r["retryable"] for r in limited)
    # Exactly the joins and leaves that happened were announced, in order.
    done = [r["type"] for r in replies if r["type"] in ("joined", "left")]
    announced = [f["type"] for f in chat_env.frames(a.connection_id)[before:]]
    assert announced == [{"joined": "memberJoined", "left": "memberLeft"}[kind] for kind in done]


def test_40_create_room_in_a_burst_are_limited_and_no_limited_name_reaches_anyone(
    chat_env, shipped_limits, table
):
    alice, bob = User(), User()
    a, b = alice.connect(), bob.connect()
    burst = config.RATE_LIMITED_ACTIONS["createRoom"][1].burst

    with dynamodb_requests() as sent:
        passed, limited = flood(
            "createRoom", 40, lambda i: a.send("createRoom", name=f"flood {i}", memberIds=[bob.user_id])
        )

    assert {r["type"] for r in passed} == {"room"} and len(limited) >= 40 - burst - 1
    assert len(sent) < 8 * len(passed)  # the refused ones cost nothing (a create costs 7 here)
    names = {r["room"]["name"] for r in passed}
    assert {f["room"]["name"] for f in frames_of(chat_env, b, "room")} == names
    delivered = everything_delivered(chat_env, a, b)
    assert not any(f'"flood {i}"' in delivered for i in range(40) if f"flood {i}" not in names)
    stored = table.query(
        KeyConditionExpression="PK = :pk AND begins_with(SK, :rooms)",
        ExpressionAttributeValues={":pk": f"USER#{bob.user_id}", ":rooms": "ROOM#"},
    )["Items"]
    assert {item["name"] for item in stored} == names


def test_a_mark_read_burst_is_limited_and_the_limited_positions_reach_nobody(
    chat_env, shipped_limits, function_env
):
    function_env.set(SEND_BURST="100")  # the messages to mark read
    alice, bob = User(), User()
    a, b = alice.connect(), bob.connect()
    room_id = make_room(a, bob)
    for i in range(40):
        a.send("sendMessage", roomId=room_id, content=f"m{i}")

    passed, limited = flood("markRead", 40, lambda i: b.send("markRead", roomId=room_id, seq=i + 1))

    assert {r["type"] for r in passed} == {"readMarked"} and limited
    assert [f["seq"] for f in frames_of(chat_env, a, "read")] == [r["seq"] for r in passed]


def test_a_message_flood_is_limited_and_no_limited_message_reaches_anyone(chat_env, shipped_limits):
    alice, bob = User(), User()
    a, a_other, b = alice.connect(), alice.connect(), bob.connect()
    room_id = make_room(a, bob)

    replies: list[dict] = []
    passed, limited = flood(
        "sendMessage",
        30,
        lambda i: replies.append(a.send("sendMessage", roomId=room_id, content=f"flood {i}")) or replies[-1],
    )

    sent = [f"flood {i}" for i, r in enumerate(replies) if r["type"] == "ack"]
    assert len(sent) == len(passed) and limited
    for connection in (a_other, b):
        assert [f["content"] for f in frames_of(chat_env, connection, "message")] == sent
    delivered = everything_delivered(chat_env, a, a_other, b)
    assert not any(f'"flood {i}"' in delivered for i in range(30) if f"flood {i}" not in sent)


def test_reauth_is_limited_before_the_token_is_looked_at(chat_env, shipped_limits):
    a = User().connect()
    burst = config.RATE_LIMITED_ACTIONS["reauth"][1].burst

    passed, limited = flood("reauth", burst + 3, lambda _: a.send("reauth", idToken="not-a-token"))

    assert {r["code"] for r in passed} == {"TOKEN_INVALID"} and len(limited) >= 2


def test_read_only_actions_are_not_limited_per_connection(chat_env, shipped_limits):
    a = User().connect()
    room_id = make_room(a)

    replies = [a.send(action, roomId=room_id) for _ in range(30) for action in ("getMessages", "getMembers")]

    assert {r["type"] for r in replies} == {"messages", "members"}
