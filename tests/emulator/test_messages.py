"""Messages: route selection, route responses, integration failures, frame and message limits."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.emulator.support import recorded_kind, url
from tests.support.local_stack import LocalStackProcess

pytestmark = pytest.mark.slow


async def reply(ws: ClientConnection, frame: str | bytes, *, timeout: float = 10.0) -> Any:
    await ws.send(frame)
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def test_message_event_shape_and_authorizer_context(stack: LocalStackProcess) -> None:
    async def scenario() -> Any:
        async with connect(url(stack)) as ws:
            return await reply(ws, json.dumps({"action": "echo", "x": 1}))

    event = run(scenario())["event"]
    context = event["requestContext"]
    assert context["routeKey"] == "echo"
    assert context["eventType"] == "MESSAGE"
    assert context["messageDirection"] == "IN"
    assert context["stage"] == "test"
    assert context["identity"] == {"sourceIp": "127.0.0.1"}
    assert context["authorizer"]["userId"] == "user-1"
    assert context["authorizer"]["principalId"] == "fixture-principal"
    for field in (
        "messageId",
        "requestId",
        "connectionId",
        "domainName",
        "apiId",
        "connectedAt",
        "requestTimeEpoch",
    ):
        assert context[field], field
    assert json.loads(event["body"]) == {"action": "echo", "x": 1}
    assert event["isBase64Encoded"] is False


@pytest.mark.parametrize(
    "frame",
    [
        "not json",
        json.dumps({"action": "noSuchRoute"}),
        json.dumps({"no": "action"}),
        json.dumps({"action": 7}),
        "[]",
    ],
)
def test_unmatched_frames_go_to_default(stack: LocalStackProcess, frame: str) -> None:
    async def scenario() -> Any:
        async with connect(url(stack)) as ws:
            return await reply(ws, frame)

    event = run(scenario())["event"]
    assert event["requestContext"]["routeKey"] == "$default"
    assert event["body"] == frame


def test_route_responses(stack: LocalStackProcess) -> None:
    async def scenario() -> list[Any]:
        async with connect(url(stack)) as ws:
            # A one-way route and a two-way route whose result has no body send nothing back:
            # the first frame received answers the echo sent after them.
            await ws.send(json.dumps({"action": "oneway"}))
            await ws.send(json.dumps({"action": "nobody"}))
            await asyncio.sleep(1.0)
            first = await reply(ws, json.dumps({"action": "echo"}))
            # A non-2xx proxy result is still the route response.
            status500 = await reply(ws, json.dumps({"action": "status500"}))
            return [first, status500]

    first, status500 = run(scenario())
    assert first["event"]["requestContext"]["routeKey"] == "echo"
    assert status500 == {"problem": "bad"}


@pytest.mark.parametrize("action", ["raise", "crash", "missingDependency"])
def test_integration_failure_sends_internal_server_error_and_keeps_the_connection(
    stack: LocalStackProcess, action: str
) -> None:
    async def scenario() -> list[Any]:
        async with connect(url(stack)) as ws:
            failure = await reply(ws, json.dumps({"action": action}))
            after = await reply(ws, json.dumps({"action": "echo"}))
            return [failure, after]

    failure, after = run(scenario())
    assert failure["message"] == "Internal server error"
    assert failure["connectionId"] == after["event"]["requestContext"]["connectionId"]
    assert failure["requestId"]
    assert after["event"]["requestContext"]["routeKey"] == "echo"


def test_a_route_response_over_128_kb_is_not_sent_and_the_client_gets_internal_server_error(
    stack: LocalStackProcess,
) -> None:
    """The limit counts UTF-8 bytes: 65,536 `é` (131,072 bytes) go out, 65,537 do not."""

    async def scenario() -> list[Any]:
        async with connect(url(stack), max_size=None) as ws:
            await ws.send(json.dumps({"action": "sized", "text": "é", "characters": 65_536}))
            fits = await asyncio.wait_for(ws.recv(), 10)
            over = await reply(ws, json.dumps({"action": "sized", "text": "é", "characters": 65_537}))
            after = await reply(ws, json.dumps({"action": "echo"}))
            return [fits, over, after]

    fits, over, after = run(scenario())
    assert fits == "é" * 65_536
    assert over["message"] == "Internal server error" and over["requestId"]
    assert over["connectionId"] == after["event"]["requestContext"]["connectionId"]  # still open


def test_a_frame_over_32_kb_closes_with_1009(stack: LocalStackProcess) -> None:
    async def scenario() -> tuple[int | None, str]:
        async with connect(url(stack), max_size=None) as ws:
            ok = await reply(ws, json.dumps({"action": "echo", "pad": "x" * 30_000}))
            await ws.send(json.dumps({"action": "echo", "pad": "x" * 33_000}))
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 10)
            return ws.close_code, ok["event"]["requestContext"]["connectionId"]

    code, connection_id = run(scenario())
    assert code == 1009
    disconnect = recorded_kind(stack, connection_id, "$disconnect")
    assert disconnect["requestContext"]["disconnectStatusCode"] == 1009


def test_messages_are_limited_to_128_kb_across_fragments(stack: LocalStackProcess) -> None:
    async def scenario() -> tuple[Any, int | None]:
        async with connect(url(stack), max_size=None) as ws:
            # 100 KB in 25 KB fragments is one valid message ...
            body = json.dumps({"action": "echo", "pad": "y" * 100_000})
            await ws.send([body[i : i + 25_000] for i in range(0, len(body), 25_000)])
            accepted = json.loads(await asyncio.wait_for(ws.recv(), 10))
            # ... 130 KB in 30 KB fragments is not.
            await ws.send(["z" * 30_000 for _ in range(5)])
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 10)
            return accepted, ws.close_code

    accepted, code = run(scenario())
    assert json.loads(accepted["event"]["body"])["pad"] == "y" * 100_000
    assert code == 1009


@pytest.mark.parametrize(
    ("how", "code", "reason"),
    [
        ("close", 1000, "bye"),
        ("close-no-status", 1005, "Client-side close frame status not set"),
        ("abort", 1006, ""),
    ],
)
def test_disconnect_reports_how_the_client_went(
    stack: LocalStackProcess, how: str, code: int, reason: str
) -> None:
    async def scenario() -> str:
        ws = await connect(url(stack))
        connection_id = (await reply(ws, json.dumps({"action": "echo"})))["event"]["requestContext"][
            "connectionId"
        ]
        if how == "close":
            await ws.close(1000, "bye")
        elif how == "close-no-status":
            async with ws.send_context():
                ws.protocol.send_close()  # a close frame with an empty payload
            await ws.wait_closed()
        else:
            ws.transport.abort()
        return connection_id

    connection_id = run(scenario())
    event = recorded_kind(stack, connection_id, "$disconnect")
    context = event["requestContext"]
    assert context["routeKey"] == "$disconnect"
    assert context["eventType"] == "DISCONNECT"
    assert context["disconnectStatusCode"] == code
    if reason:
        assert context["disconnectReason"] == reason
    assert context["authorizer"]["userId"] == "user-1"


def test_a_binary_frame_goes_to_default_base64_encoded(stack: LocalStackProcess) -> None:
    payload = b'{"action": "echo"}\x00\xff'

    async def scenario() -> Any:
        async with connect(url(stack)) as ws:
            return await reply(ws, payload)

    event = run(scenario())["event"]
    assert event["requestContext"]["routeKey"] == "$default"
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == payload
