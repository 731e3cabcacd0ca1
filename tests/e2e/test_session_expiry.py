"""A token that expires on an open connection, on the local stack with real Cognito tokens: the
connection stops getting the room's messages, gets `sessionExpired` once, a `reauth` restores
delivery, and without one it is closed after the environment's grace (dev: 10 s, cdk.json)."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

import pytest

from tests.e2e.support import ChatClient, new_user, reissued, sign_in

pytestmark = pytest.mark.slow

# Seconds the short-lived token still has when the connections open.
TOKEN_LIFETIME = 8


def epoch(timestamp: str) -> float:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


def test_an_expired_session_stops_receiving_is_told_once_and_closed_unless_it_reauths(
    outputs: dict[str, str],
) -> None:
    alice, bob = new_user(outputs), new_user(outputs)
    expires_at = int(time.time()) + TOKEN_LIFETIME
    short = reissued(bob.id_token, exp=expires_at)  # signed by the pool's key, like any ID token

    async def scenario() -> None:
        a = await ChatClient.open(outputs, alice.id_token)
        a2 = await ChatClient.open(outputs, alice.id_token)  # shows when a message's fan-out has run
        renewing = await ChatClient.open(outputs, short)
        lapsing = await ChatClient.open(outputs, short)
        room_id = (await a.request("createRoom", name="expiry", memberIds=[bob.user_id]))["room"]["roomId"]
        await a.request("sendMessage", roomId=room_id, content="before")
        for b in (renewing, lapsing):
            await b.wait_for(lambda e: e.get("content") == "before")

        await asyncio.sleep(max(0.0, expires_at - time.time()) + 1)
        for i in range(2):
            await a.request("sendMessage", roomId=room_id, content=f"expired {i}")
        told = [(await b.wait_for(lambda e: e["type"] == "sessionExpired"))[0] for b in (renewing, lapsing)]
        # Both fan-outs have run (not after the reauth below, which would deliver to the renewed tab).
        await a2.wait_for(lambda e: e.get("content") == "expired 1")
        assert [epoch(frame["expiresAt"]) for frame in told] == [expires_at, expires_at]
        grace = epoch(told[1]["closesAt"]) - expires_at
        assert grace == 10  # dev's session_grace_seconds

        fresh = sign_in(outputs, bob.username)["IdToken"]
        assert (await renewing.request("reauth", idToken=fresh))["type"] == "reauthenticated"
        await a.request("sendMessage", roomId=room_id, content="after reauth")
        await renewing.wait_for(lambda e: e.get("content") == "after reauth")

        await asyncio.sleep(max(0.0, expires_at + grace - time.time()) + 0.5)
        await a.request("sendMessage", roomId=room_id, content="past the grace")
        await asyncio.wait_for(lapsing.ws.wait_closed(), 20)
        await renewing.wait_for(lambda e: e.get("content") == "past the grace")

        assert lapsing.ws.close_code == 1000  # DeleteConnection: a normal close
        for b in (renewing, lapsing):
            assert len(b.of_type("sessionExpired")) == 1
        assert [e["content"] for e in renewing.of_type("message")] == [
            "before",
            "after reauth",
            "past the grace",
        ]
        assert [e["content"] for e in lapsing.of_type("message")] == ["before"]
        for client in (a, a2, renewing):
            await client.close()

    asyncio.run(scenario())
