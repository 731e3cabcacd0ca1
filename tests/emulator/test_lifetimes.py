"""Idle and maximum connection lifetimes (shortened by configuration: 1.5 s idle, 4 s maximum)."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.emulator.support import recorded_kind, url
from tests.support.local_stack import LocalStackProcess

pytestmark = pytest.mark.slow


def test_an_idle_connection_is_closed_with_1001(short_lived: LocalStackProcess) -> None:
    async def scenario() -> tuple[str, int | None, float]:
        async with connect(url(short_lived)) as ws:
            # Timed from before the last frame: the connection's idle time starts no earlier than it
            # (timed from its reply, a slow machine's reply time was missing: 0.95 s once).
            quiet_since = time.monotonic()
            await ws.send(json.dumps({"action": "echo"}))
            connection_id = json.loads(await ws.recv())["event"]["requestContext"]["connectionId"]
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 10)
            return connection_id, ws.close_code, time.monotonic() - quiet_since

    connection_id, code, idle = asyncio.run(scenario())
    assert code == 1001
    assert idle >= 1.0
    context = recorded_kind(short_lived, connection_id, "$disconnect")["requestContext"]
    assert context["disconnectStatusCode"] == 1001
    assert context["disconnectReason"] == "Going away"


def test_traffic_keeps_a_connection_open_until_its_maximum_lifetime(short_lived: LocalStackProcess) -> None:
    async def scenario() -> tuple[int, int | None]:
        answered = 0
        async with connect(url(short_lived)) as ws:
            try:
                for _ in range(40):
                    await ws.send(json.dumps({"action": "nobody"}))
                    await asyncio.sleep(0.5)
                    answered += 1
            except ConnectionClosed:
                pass
            return answered, ws.close_code

    answered, code = asyncio.run(scenario())
    # Traffic every 0.5 s outlives the 1.5 s idle timeout, but not the 4 s maximum.
    assert 5 <= answered <= 9
    assert code == 1001
