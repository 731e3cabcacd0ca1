"""@connections over HTTP, through a real boto3 apigatewaymanagementapi client."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.emulator.support import management, recorded_kind, url
from tests.support.local_stack import LocalStackProcess

pytestmark = pytest.mark.slow


async def connection_id_of(ws: Any) -> str:
    await ws.send(json.dumps({"action": "echo"}))
    return json.loads(await asyncio.wait_for(ws.recv(), 10))["event"]["requestContext"]["connectionId"]


def test_post_get_delete_then_gone(stack: LocalStackProcess) -> None:
    api = management(stack)

    async def scenario() -> tuple[str, str, dict[str, Any], int | None]:
        async with connect(url(stack)) as ws:
            connection_id = await connection_id_of(ws)
            await asyncio.to_thread(api.post_to_connection, ConnectionId=connection_id, Data=b'{"hello": 1}')
            pushed = await asyncio.wait_for(ws.recv(), 10)
            described = await asyncio.to_thread(api.get_connection, ConnectionId=connection_id)
            await asyncio.to_thread(api.delete_connection, ConnectionId=connection_id)
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 10)
            return connection_id, pushed, described, ws.close_code

    connection_id, pushed, described, code = asyncio.run(scenario())
    assert pushed == '{"hello": 1}'
    assert isinstance(described["ConnectedAt"], datetime)
    assert isinstance(described["LastActiveAt"], datetime)
    assert described["LastActiveAt"] >= described["ConnectedAt"]
    assert described["Identity"]["SourceIp"] == "127.0.0.1"
    assert code == 1000
    # the deleted connection is gone for every call, with the exception boto3 users catch
    with pytest.raises(api.exceptions.GoneException) as gone:
        api.post_to_connection(ConnectionId=connection_id, Data=b"late")
    assert gone.value.response["ResponseMetadata"]["HTTPStatusCode"] == 410
    with pytest.raises(api.exceptions.GoneException):
        api.get_connection(ConnectionId=connection_id)
    with pytest.raises(api.exceptions.GoneException):
        api.delete_connection(ConnectionId=connection_id)
    assert (
        recorded_kind(stack, connection_id, "$disconnect")["requestContext"]["disconnectStatusCode"] == 1000
    )


def test_unknown_connection_is_gone(stack: LocalStackProcess) -> None:
    api = management(stack)
    with pytest.raises(api.exceptions.GoneException):
        api.post_to_connection(ConnectionId="neverExisted0000=", Data=b"x")


def test_payload_over_128_kb_is_refused_with_413_and_the_connection_stays(stack: LocalStackProcess) -> None:
    api = management(stack)
    limit = "é".encode() * 65_536  # 131,072 bytes: exactly the limit

    async def scenario() -> tuple[Any, str, Any]:
        async with connect(url(stack), max_size=None) as ws:
            connection_id = await connection_id_of(ws)
            with pytest.raises(api.exceptions.PayloadTooLargeException) as too_large:
                await asyncio.to_thread(api.post_to_connection, ConnectionId=connection_id, Data=limit + b"x")
            await asyncio.to_thread(api.post_to_connection, ConnectionId=connection_id, Data=limit)
            return too_large.value, await asyncio.wait_for(ws.recv(), 10), ws.close_code

    error, delivered, close_code = asyncio.run(scenario())
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert error.response["Error"]["Code"] == "PayloadTooLargeException"
    assert error.response["Error"]["Message"]
    assert delivered == "é" * 65_536 and close_code is None


def test_a_function_posts_through_connections_endpoint_with_the_runtime_boto3(
    stack: LocalStackProcess,
) -> None:
    async def scenario() -> list[Any]:
        async with connect(url(stack)) as sender, connect(url(stack)) as receiver:
            target = await connection_id_of(receiver)
            await sender.send(json.dumps({"action": "post", "target": target, "data": "hi"}))
            delivered = json.loads(await asyncio.wait_for(receiver.recv(), 10))
            result = json.loads(await asyncio.wait_for(sender.recv(), 10))
            await receiver.close()
            await asyncio.sleep(0.3)
            await sender.send(json.dumps({"action": "post", "target": target, "data": "again"}))
            after_close = json.loads(await asyncio.wait_for(sender.recv(), 10))
            return [delivered, result, after_close]

    delivered, result, after_close = asyncio.run(scenario())
    assert delivered == {"pushed": "hi"}
    assert result["gone"] is False
    assert after_close == {"gone": True}


def test_wrong_stage_is_forbidden(stack: LocalStackProcess) -> None:
    import boto3

    endpoint = stack.outputs["ConnectionsEndpoint"].replace("/test", "/prod")
    api = boto3.client("apigatewaymanagementapi", endpoint_url=endpoint)
    with pytest.raises(ClientError) as error:
        api.post_to_connection(ConnectionId="x", Data=b"x")
    assert error.value.response["Error"]["Code"] == "ForbiddenException"
