"""Edits and deletes on the local stack: heard live by a member's open tab, recovered by one that was
offline, and a deleted message's content gone from the table (every frame checked against
docs/asyncapi.yaml by the client)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from tests.e2e.support import ChatClient, items_mentioning, new_user

pytestmark = pytest.mark.slow


def test_changes_are_heard_live_recovered_after_offline_and_a_delete_leaves_no_content(
    outputs: dict[str, str],
) -> None:
    alice, bob = new_user(outputs), new_user(outputs)
    secret = f"the door code is {uuid.uuid4().hex[:8]}"

    async def scenario() -> None:
        a = await ChatClient.open(outputs, alice.id_token)
        live = await ChatClient.open(outputs, bob.id_token)
        room_id = (await a.request("createRoom", name="changes", memberIds=[bob.user_id]))["room"]["roomId"]
        for content in ("helo", secret, "see you at 5"):
            assert (await a.request("sendMessage", roomId=room_id, content=content))["type"] == "ack"
        offline = await ChatClient.open(outputs, bob.id_token)
        await offline.close()

        edited = await a.request("editMessage", roomId=room_id, seq=1, content="hello")
        deleted = await a.request("deleteMessage", roomId=room_id, seq=2)
        for content in ("see you at 6", "see you at 6:30"):
            last = await a.request("editMessage", roomId=room_id, seq=3, content=content)
        assert (edited["version"], deleted["type"], last["version"]) == (2, "deleted", 3)
        await live.wait_for(lambda e: e.get("type") == "messageEdited" and e["version"] == 3)
        heard = [(e["type"], e["seq"], e.get("version")) for e in live.events if e.get("seq")]
        assert heard[-4:] == [
            ("messageEdited", 1, 2),
            ("messageDeleted", 2, None),
            ("messageEdited", 3, 2),
            ("messageEdited", 3, 3),
        ]

        back = await ChatClient.open(outputs, bob.id_token)
        page = await back.request("getMessages", roomId=room_id, after=0)
        now = [(m["seq"], m.get("content"), m.get("version"), m.get("deleted", False)) for m in page["items"]]
        assert now == [(1, "hello", 2, False), (2, None, None, True), (3, "see you at 6:30", 3, False)]
        listed = next(i for i in (await back.request("listRooms"))["items"] if i["roomId"] == room_id)
        assert listed["lastMessage"] == page["items"][-1]
        assert items_mentioning(outputs, secret) == []  # not hidden: gone from every item
        for client in (a, live, back):
            await client.close()

    asyncio.run(scenario())
