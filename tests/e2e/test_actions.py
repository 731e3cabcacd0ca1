"""Every action of PROTOCOL.md through the real local stack, with what the others in the room receive."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.e2e.support import ChatClient, new_user, reissued, sign_in

pytestmark = pytest.mark.slow


def run(scenario: Callable[[], Awaitable[Any]]) -> Any:
    return asyncio.run(scenario())


def test_rooms_membership_and_what_members_receive(outputs: dict[str, str]) -> None:
    alice, bob, carol = new_user(outputs), new_user(outputs), new_user(outputs)

    async def scenario() -> None:
        a = await ChatClient.open(outputs, alice.id_token)
        b = await ChatClient.open(outputs, bob.id_token)
        c = await ChatClient.open(outputs, carol.id_token)
        # createRoom: the creator gets `room`, an invited member gets `room` on its connection
        created = await a.request("createRoom", name="team", memberIds=[bob.user_id])
        assert created["type"] == "room"
        room = created["room"]
        assert room["name"] == "team" and room["open"] is False and room["createdBy"] == alice.user_id
        assert set(room["memberIds"]) == {alice.user_id, bob.user_id}
        (invited,) = await b.wait_for(lambda e: e.get("type") == "room")
        assert invited["room"]["roomId"] == room["roomId"]
        # joinRoom: a closed room refuses an outsider; an open room lets anyone in
        forbidden = await c.request("joinRoom", roomId=room["roomId"])
        assert (forbidden["type"], forbidden["code"], forbidden["action"]) == (
            "error",
            "FORBIDDEN",
            "joinRoom",
        )
        lobby = (await a.request("createRoom", name="lobby", open=True))["room"]
        joined = await c.request("joinRoom", roomId=lobby["roomId"])
        assert joined == {"type": "joined", "roomId": lobby["roomId"], "requestId": joined["requestId"]}
        (member_joined,) = await a.wait_for(lambda e: e.get("type") == "memberJoined")
        assert member_joined == {
            "type": "memberJoined",
            "roomId": lobby["roomId"],
            "userId": carol.user_id,
            "displayName": carol.username.split("@")[0],  # the e-mail's local part: no name claims
        }
        missing = await c.request("joinRoom", roomId="no-such-room")
        assert missing["code"] == "ROOM_NOT_FOUND"
        # listRooms
        listed = await a.request("listRooms")
        assert {item["roomId"] for item in listed["items"]} >= {room["roomId"], lobby["roomId"]}
        # leaveRoom: the others are told
        left = await c.request("leaveRoom", roomId=lobby["roomId"])
        assert left["type"] == "left" and left["roomId"] == lobby["roomId"]
        (member_left,) = await a.wait_for(lambda e: e.get("type") == "memberLeft")
        assert member_left["userId"] == carol.user_id
        not_member = await c.request("sendMessage", roomId=lobby["roomId"], content="still here?")
        assert not_member["code"] == "NOT_A_MEMBER"
        for client in (a, b, c):
            await client.close()

    run(scenario)


def test_messages_history_reads_and_typing(outputs: dict[str, str]) -> None:
    alice, bob = new_user(outputs), new_user(outputs)

    async def scenario() -> None:
        a = await ChatClient.open(outputs, alice.id_token)
        b = await ChatClient.open(outputs, bob.id_token)
        room_id = (await a.request("createRoom", name="history", memberIds=[bob.user_id]))["room"]["roomId"]
        acks = [await a.request("sendMessage", roomId=room_id, content=f"m{i}") for i in range(1, 6)]
        assert [ack["seq"] for ack in acks] == [1, 2, 3, 4, 5]
        assert all(
            ack["type"] == "ack" and ack["messageId"] and ack["createdAt"].endswith("Z") for ack in acks
        )
        received = await b.wait_for(lambda e: e.get("type") == "message", count=5)
        assert sorted(m["seq"] for m in received) == [1, 2, 3, 4, 5]
        assert {m["senderId"] for m in received} == {alice.user_id}
        assert not a.of_type("message")  # the sending connection gets its ack, not the message
        # getMessages: newest page, paging back, resuming after
        newest = await b.request("getMessages", roomId=room_id, limit=2)
        assert [m["seq"] for m in newest["items"]] == [4, 5] and newest["hasMore"] is True
        older = await b.request("getMessages", roomId=room_id, before=4, limit=10)
        assert [m["seq"] for m in older["items"]] == [1, 2, 3] and older["hasMore"] is False
        after = await b.request("getMessages", roomId=room_id, after=3)
        assert [m["content"] for m in after["items"]] == ["m4", "m5"]
        # markRead: the reader gets readMarked, the others `read`
        marked = await b.request("markRead", roomId=room_id, seq=5)
        assert (marked["type"], marked["seq"]) == ("readMarked", 5)
        (read,) = await a.wait_for(lambda e: e.get("type") == "read")
        assert read == {
            "type": "read",
            "roomId": room_id,
            "userId": bob.user_id,
            "displayName": bob.username.split("@")[0],
            "seq": 5,
        }
        rooms = await b.request("listRooms")
        (item,) = [i for i in rooms["items"] if i["roomId"] == room_id]
        assert item["lastReadSeq"] == 5 and item["unreadCount"] == 0 and item["lastMessage"]["seq"] == 5
        # typing: the others are told, the typist is not, nothing is replied
        await a.notify("typing", roomId=room_id)
        (typing,) = await b.wait_for(lambda e: e.get("type") == "typing")
        assert typing == {
            "type": "typing",
            "roomId": room_id,
            "userId": alice.user_id,
            "displayName": alice.username.split("@")[0],
        }
        await asyncio.sleep(0.5)
        assert not a.of_type("typing")
        # ping, whoami
        assert (await a.request("ping"))["type"] == "pong"
        identity = await b.request("whoami")
        assert identity["userId"] == bob.user_id and identity["connectionId"] and identity["expiresAt"]
        await a.close()
        await b.close()

    run(scenario)


def test_error_codes(outputs: dict[str, str]) -> None:
    alice, bob = new_user(outputs), new_user(outputs)

    async def scenario() -> None:
        a = await ChatClient.open(outputs, alice.id_token)
        room_id = (await a.request("createRoom", name="errors"))["room"]["roomId"]
        # BAD_REQUEST: not JSON, not an object, a field of the wrong type or out of range
        await a.send_raw("this is not json")
        await a.send_raw("[1, 2]")
        bad = await a.wait_for(lambda e: e.get("code") == "BAD_REQUEST", count=2)
        assert all(frame["type"] == "error" and frame["retryable"] is False for frame in bad)
        assert (await a.request_off_contract("getMessages", roomId=room_id, limit=0))["code"] == "BAD_REQUEST"
        assert (await a.request_off_contract("sendMessage", roomId=room_id))["code"] == "BAD_REQUEST"
        unknown = await a.request_off_contract("shout", roomId=room_id)
        assert unknown["code"] == "UNKNOWN_ACTION" and "sendMessage" in unknown["message"]
        too_long = await a.request_off_contract("sendMessage", roomId=room_id, content="x" * 5001)
        assert too_long["code"] == "MESSAGE_TOO_LONG"
        assert (await a.request("getMessages", roomId="nope"))["code"] == "ROOM_NOT_FOUND"
        b = await ChatClient.open(outputs, bob.id_token)
        assert (await b.request("getMessages", roomId=room_id))["code"] == "NOT_A_MEMBER"
        # TOKEN_INVALID: reauth with another user's token; reauth with a fresh own token works
        assert (await a.request("reauth", idToken=bob.id_token))["code"] == "TOKEN_INVALID"
        renewed = await a.request("reauth", idToken=sign_in(outputs, alice.username)["IdToken"])
        assert renewed["type"] == "reauthenticated" and renewed["expiresAt"]
        # RATE_LIMITED: one connection sending faster than the environment allows
        replies = [await a.request("sendMessage", roomId=room_id, content=f"fast {i}") for i in range(30)]
        limited = [reply for reply in replies if reply.get("code") == "RATE_LIMITED"]
        assert limited and all(reply["retryable"] is True for reply in limited)
        await a.close()
        await b.close()

    run(scenario)


def test_token_expired_until_reauth(outputs: dict[str, str]) -> None:
    alice = new_user(outputs)
    # A token that expired 10 s ago: inside the authorizer's clock-skew leeway, so it connects.
    now = int(time.time())
    almost = reissued(alice.id_token, iat=now - 3610, auth_time=now - 3610, exp=now - 10)

    async def scenario() -> None:
        a = await ChatClient.open(outputs, almost)
        expired = await a.request("listRooms")
        assert expired["code"] == "TOKEN_EXPIRED" and expired["action"] == "listRooms"
        assert (await a.request("ping"))["type"] == "pong"
        assert (await a.request("reauth", idToken=alice.id_token))["type"] == "reauthenticated"
        assert (await a.request("listRooms"))["type"] == "rooms"
        await a.close()

    run(scenario)
