"""Presence on the local stack, multi-device aware: first open and last close are each told once."""

from __future__ import annotations

import asyncio

from websockets.exceptions import InvalidStatus

from tests.e2e.support import ChatClient, new_user


def test_two_tabs_of_one_user_are_one_presence(outputs: dict[str, str]) -> None:
    alice, bob = new_user(outputs), new_user(outputs)

    async def scenario() -> None:
        a = await ChatClient.open(outputs, alice.id_token)
        room_id = (await a.request("createRoom", name="presence", memberIds=[bob.user_id]))["room"]["roomId"]

        def presence(online: bool):
            return lambda e: (
                e.get("type") == "presence" and e["userId"] == bob.user_id and e["online"] is online
            )

        b1 = await ChatClient.open(outputs, bob.id_token)
        [came] = await a.wait_for(presence(True))
        assert came == {
            "type": "presence",
            "roomId": room_id,
            "userId": bob.user_id,
            "displayName": bob.username.split("@")[
                0
            ],  # no preferred_username or name: the e-mail's local part
            "online": True,
        }
        b2 = await ChatClient.open(outputs, bob.id_token)  # a second tab: nothing to tell
        members = await a.request("getMembers", roomId=room_id)
        assert members["type"] == "members", members
        assert {m["userId"]: m["online"] for m in members["items"]} == {
            alice.user_id: True,
            bob.user_id: True,
        }
        assert members["cursor"] is None
        rooms = await a.request("listRooms")
        [item] = [i for i in rooms["items"] if i["roomId"] == room_id]
        assert (item["memberCount"], item["onlineCount"]) == (2, 2)

        await b1.close()  # one of two tabs closes: nothing to tell
        await asyncio.sleep(1.0)
        assert len([e for e in a.events if presence(True)(e)]) == 1
        assert [e for e in a.events if presence(False)(e)] == []

        await b2.close()  # the last one: offline, once
        await a.wait_for(presence(False))
        await asyncio.sleep(0.5)
        assert len([e for e in a.events if presence(False)(e)]) == 1
        members = await a.request("getMembers", roomId=room_id)
        assert {m["userId"]: m["online"] for m in members["items"]} == {
            alice.user_id: True,
            bob.user_id: False,
        }
        await a.close()

    asyncio.run(scenario())


async def reopened(outputs: dict[str, str], token: str, within: float = 20.0) -> ChatClient:
    """Connect, retrying a 429 as a client would: the closed tab's `$disconnect` runs after its close."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        try:
            return await ChatClient.open(outputs, token)
        except InvalidStatus as refused:
            if refused.response.status_code != 429 or asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.2)


def test_an_eleventh_connection_is_refused_with_429_and_nothing_is_stored(outputs: dict[str, str]) -> None:
    user = new_user(outputs)

    async def scenario() -> None:
        tabs = [await ChatClient.open(outputs, user.id_token) for _ in range(10)]
        try:
            await ChatClient.open(outputs, user.id_token)
        except InvalidStatus as refused:
            assert refused.response.status_code == 429
        else:
            raise AssertionError("the 11th connection was accepted")
        assert (await tabs[0].request("whoami"))["type"] == "identity"
        await tabs[0].close()
        again = await reopened(outputs, user.id_token)  # a slot is free once $disconnect ran
        assert (await again.request("ping"))["type"] == "pong"
        for tab in [*tabs[1:], again]:
            await tab.close()

    asyncio.run(scenario())
