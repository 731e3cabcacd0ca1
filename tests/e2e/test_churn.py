"""Tabs opening and closing while a room talks: no ghost connections, no lost messages, true counts.

A fan-out that meets a connection still inside its `$connect` gets 410 from API Gateway (and from
the emulator); it must not delete that connection's records (docs/DATA_MODEL.md, "Presence").
Here people open and close tabs and send while the room's fan-outs run, for ``CHURN_SECONDS``;
then everything is closed, and the room must be clean: every acked message once in the history, no
connection entry left on a member item or a user's map, `onlineCount` 0; and a member connecting
afterwards must be recorded, counted and hear the next message.

Each tab behaves as clients/js does (src/client.js, src/backoff.js): a handshake that has not
opened within ``OPEN_TIMEOUT`` is given up and tried again after a jittered, doubling delay, and a
message is sent again with the same `clientMessageId` until it is acked. The suite's other worker
runs beside this test on two cores, where the first handshakes of the churn wait for several cold
starts at once (over 10 s seen); a real client retries them, and what a given-up handshake's
`$connect` stored must be gone as well (its `$disconnect`, docs/LOCAL.md "Handshake"). A busier
machine has seen a worker's init outlive Lambda's 10 s: API Gateway answers such a request with
`Internal server error`, which clients/js ignores (the send is retried), and so does a tab here.
What was retried, and why, is printed.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.e2e.support import ChatClient, User, minted_users, new_user

pytestmark = pytest.mark.slow

PEOPLE = 12
CHURN_SECONDS = 20.0
# Fewer acks than this prove nothing; on a machine so busy that CHURN_SECONDS did not get them, the
# tabs go on until they do, for at most CHURN_AT_MOST s in all.
ENOUGH_SAID = 2 * PEOPLE
CHURN_AT_MOST = 60.0
QUIET_WITHIN = 30.0  # the last `$disconnect`s and fan-outs finish within this
HEARD_WITHIN = 2.0
# clients/js: requestTimeoutMs (a handshake or a reply), DEFAULT_BACKOFF (500 ms doubling up to 30 s,
# half of each delay random). ATTEMPTS bounds the tries of one open or one send.
OPEN_TIMEOUT = 10.0
REPLY_TIMEOUT = 10.0
INITIAL_DELAY, MAX_DELAY, JITTER = 0.5, 30.0, 0.5
ATTEMPTS = 6


def backoff_delay(failed: int) -> float:
    """Seconds before the next attempt after `failed` failed ones in a row (clients/js backoffDelay)."""
    ceiling = min(MAX_DELAY, INITIAL_DELAY * 2**failed)
    return ceiling * (1 - JITTER + JITTER * random.random())


def table(outputs: dict[str, str]) -> Any:
    return boto3.resource(
        "dynamodb", endpoint_url=outputs["DynamoDBEndpoint"], region_name=outputs["Region"]
    ).Table(outputs["TableName"])


def member_connections(outputs: dict[str, str], room_id: str) -> dict[str, list[str]]:
    """user id -> the connection ids its member item lists (read the way a fan-out reads them)."""
    items = table(outputs).query(
        KeyConditionExpression="PK = :pk AND begins_with(SK, :sk)",
        ExpressionAttributeValues={":pk": f"ROOM#{room_id}", ":sk": "MEMBER#"},
    )["Items"]
    return {str(item["userId"]): sorted(item.get("conns", {})) for item in items}


def user_connections(outputs: dict[str, str], people: list[User]) -> dict[str, list[str]]:
    """user id -> the connection ids of its map (what `$connect` checks the cap on)."""
    found = {}
    for person in people:
        item = table(outputs).get_item(Key={"PK": f"USER#{person.user_id}", "SK": "CONNS"}).get("Item")
        found[person.user_id] = sorted((item or {}).get("conns", {}))
    return found


def stored_online_count(outputs: dict[str, str], room_id: str) -> int:
    return int(table(outputs).get_item(Key={"PK": f"ROOM#{room_id}", "SK": "ROOM"})["Item"]["onlineCount"])


def connection_record(outputs: dict[str, str], connection_id: str) -> dict[str, Any] | None:
    return table(outputs).get_item(Key={"PK": f"CONN#{connection_id}", "SK": "CONN"}).get("Item")


async def history(client: ChatClient, room_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while True:
        page = await client.request("getMessages", roomId=room_id, after=items[-1]["seq"] if items else 0)
        assert page["type"] == "messages", page
        items += page["items"]
        if not page["hasMore"]:
            return items


async def online_count(client: ChatClient, room_id: str) -> int:
    rooms = await client.request("listRooms")
    [room] = [item for item in rooms["items"] if item["roomId"] == room_id]
    return int(room["onlineCount"])


async def settled(condition: Callable[[], bool], within: float = QUIET_WITHIN) -> None:
    """Wait until `condition()` holds, at most `within` s (the assertions after it say what did not)."""
    give_up_at = time.monotonic() + within
    while not condition() and time.monotonic() < give_up_at:
        await asyncio.sleep(0.5)


class Tabs:
    """Opens tabs and sends as clients/js does; counts what had to be retried, and why."""

    def __init__(self, outputs: dict[str, str]) -> None:
        self.outputs = outputs
        self.retried: Counter[str] = Counter()
        self.acked: dict[str, str] = {}  # clientMessageId -> messageId

    async def open(self, person: User) -> ChatClient:
        for failed in range(ATTEMPTS):
            try:
                return await ChatClient.open(
                    self.outputs,
                    person.id_token,
                    open_timeout=OPEN_TIMEOUT,
                    tolerate_failed_integrations=True,
                )
            except TimeoutError:
                self.retried["handshake timed out"] += 1
            except InvalidStatus as refused:  # only a server error is worth another try
                status = refused.response.status_code
                if status < 500:
                    raise
                self.retried[f"handshake refused {status}"] += 1
            if failed < ATTEMPTS - 1:
                await asyncio.sleep(backoff_delay(failed))
        raise AssertionError(f"no handshake of {person.username} opened in {ATTEMPTS} attempts")

    async def send(
        self, client: ChatClient, person: User, room_id: str, content: str
    ) -> tuple[ChatClient, str]:
        """Send until acked (reopening the tab if it dropped): the tab it ended on, the messageId."""
        client_message_id = uuid.uuid4().hex
        for failed in range(ATTEMPTS):
            failed_integrations = len(client.failed_integrations)
            try:
                reply = await client.request(
                    "sendMessage",
                    roomId=room_id,
                    content=content,
                    clientMessageId=client_message_id,
                    timeout=REPLY_TIMEOUT,
                )
            except TimeoutError:
                if len(client.failed_integrations) > failed_integrations:
                    self.retried["Internal server error"] += 1
                else:
                    self.retried["no reply"] += 1
            except ConnectionClosed:
                self.retried["connection lost"] += 1
                client = await self.open(person)
            else:
                if reply["type"] == "ack":
                    self.acked[client_message_id] = reply["messageId"]
                    return client, reply["messageId"]
                assert reply["type"] == "error" and reply["retryable"], reply
                self.retried[reply["code"]] += 1
            if failed < ATTEMPTS - 1:
                await asyncio.sleep(backoff_delay(failed))
        raise AssertionError(f"{client_message_id} of {person.username} not acked in {ATTEMPTS} attempts")


def test_tabs_open_and_close_while_the_room_talks_and_nothing_is_left_behind(
    outputs: dict[str, str],
) -> None:
    owner = new_user(outputs)
    people: list[User] = [owner, *minted_users(owner, PEOPLE - 1)]
    tabs = Tabs(outputs)

    def clean(room_id: str) -> bool:
        return (
            not any(member_connections(outputs, room_id).values())
            and not any(user_connections(outputs, people).values())
            and stored_online_count(outputs, room_id) == 0
        )

    async def scenario() -> None:
        first = await tabs.open(owner)
        room_id = (await first.request("createRoom", name="churn", open=True))["room"]["roomId"]
        for person in people[1:]:
            joiner = await tabs.open(person)
            assert (await joiner.request("joinRoom", roomId=room_id))["type"] == "joined"
            await joiner.close()
        await first.close()
        churn_started = time.monotonic()

        def churning() -> bool:
            elapsed = time.monotonic() - churn_started
            return elapsed < CHURN_SECONDS or (len(tabs.acked) <= ENOUGH_SAID and elapsed < CHURN_AT_MOST)

        async def tab(person: User) -> None:
            while churning():
                client = await tabs.open(person)
                for _ in range(random.randint(0, 2)):
                    client, _ = await tabs.send(client, person, room_id, f"from {person.username}")
                await asyncio.sleep(random.uniform(0.5, 3.0))
                await client.close()
                await asyncio.sleep(random.uniform(0.5, 2.0))

        await asyncio.gather(*(tab(person) for person in people for _ in range(random.randint(1, 2))))
        print(
            f"churn: {time.monotonic() - churn_started:.1f} s, {len(tabs.acked)} messages acked, "
            f"retried: {dict(tabs.retried) or 'nothing'}"
        )
        assert len(tabs.acked) > ENOUGH_SAID, f"too little was said to prove anything: {len(tabs.acked)} acks"

        await settled(lambda: clean(room_id))
        assert member_connections(outputs, room_id) == {person.user_id: [] for person in people}
        assert user_connections(outputs, people) == {person.user_id: [] for person in people}
        assert stored_online_count(outputs, room_id) == 0

        newcomer = await tabs.open(owner)
        assert await online_count(newcomer, room_id) == 1
        # (a handshake of the newcomer's that timed out and was retried goes with its $disconnect)
        await settled(lambda: sum(map(len, member_connections(outputs, room_id).values())) == 1)
        [(user_id, [connection_id])] = [
            (user, conns) for user, conns in member_connections(outputs, room_id).items() if conns
        ]
        assert user_id == owner.user_id
        assert user_connections(outputs, [owner]) == {owner.user_id: [connection_id]}
        record = connection_record(outputs, connection_id)
        assert record is not None and record["userId"] == owner.user_id
        stored = await history(newcomer, room_id)
        # every acked message once, under the clientMessageId it was sent with, and nothing else
        assert sorted(item["messageId"] for item in stored) == sorted(tabs.acked.values())
        assert {item.get("clientMessageId"): item["messageId"] for item in stored} == tabs.acked
        speaker = await tabs.open(people[1])
        speaker, sent_id = await tabs.send(speaker, people[1], room_id, "anyone here?")
        await newcomer.wait_for(
            lambda e: e.get("type") == "message" and e["messageId"] == sent_id,
            timeout=HEARD_WITHIN,
        )
        await speaker.close()
        await newcomer.close()

    asyncio.run(scenario())
