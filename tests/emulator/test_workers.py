"""Function workers: template environment, isolation from the dev venv, timeouts, crashes, concurrency."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import urllib.request
from typing import Any

import pytest
from websockets.asyncio.client import connect

from tests.emulator.support import url
from tests.support.local_stack import LocalStackProcess

pytestmark = pytest.mark.slow


async def reply(ws: Any, frame: dict[str, Any], timeout: float = 15.0) -> Any:
    await ws.send(json.dumps(frame))
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


def echo(stack: LocalStackProcess) -> dict[str, Any]:
    async def scenario() -> Any:
        async with connect(url(stack)) as ws:
            return await reply(ws, {"action": "echo"})

    return asyncio.run(scenario())


def test_environment_comes_from_the_template_with_local_endpoints(stack: LocalStackProcess) -> None:
    outputs = stack.outputs
    env = echo(stack)["env"]
    assert env["TABLE_NAME"] == outputs["TableName"]
    assert env["USER_POOL_ID"] == outputs["UserPoolId"]
    assert env["USER_POOL_CLIENT_IDS"] == outputs["UserPoolClientId"]
    assert env["FIXTURE_REGION"] == env["AWS_REGION"] == outputs["Region"]
    assert env["AWS_ENDPOINT_URL_DYNAMODB"] == outputs["DynamoDBEndpoint"]
    assert env["CONNECTIONS_ENDPOINT"] == outputs["ConnectionsEndpoint"]
    assert env["JWKS_URL"] == f"{outputs['CognitoEndpoint']}/{outputs['UserPoolId']}/.well-known/jwks.json"
    assert env["_HANDLER"] == "routes.handler"
    assert env["AWS_LAMBDA_FUNCTION_NAME"].startswith("EmulatorFixture-RoutesFunction")
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "128"
    with urllib.request.urlopen(env["JWKS_URL"], timeout=5) as response:
        assert json.load(response)["keys"][0]["alg"] == "RS256"


def test_functions_see_their_asset_and_the_runtime_but_not_the_dev_venv(stack: LocalStackProcess) -> None:
    result = echo(stack)
    path = result["sysPath"]
    assert path[0] == result["env"]["LAMBDA_TASK_ROOT"]
    assert not any("site-packages" in entry for entry in path)
    assert result["context"]["function"] == result["env"]["AWS_LAMBDA_FUNCTION_NAME"]
    assert 0 < result["context"]["remaining"] <= 2000


def test_a_dependency_missing_from_the_bundle_fails_as_on_lambda(stack: LocalStackProcess) -> None:
    async def scenario() -> Any:
        async with connect(url(stack)) as ws:
            return await reply(ws, {"action": "missingDependency"})

    assert asyncio.run(scenario())["message"] == "Internal server error"
    log = stack.log_path.read_text()
    assert "Runtime.ImportModuleError: No module named 'jwt'" in log


def test_timeout_from_the_template_is_enforced_and_the_worker_replaced(stack: LocalStackProcess) -> None:
    async def scenario() -> list[Any]:
        async with connect(url(stack)) as ws:
            timed_out = await reply(ws, {"action": "sleep", "seconds": 5})
            after = await reply(ws, {"action": "sleep", "seconds": 0})
            return [timed_out, after]

    timed_out, after = asyncio.run(scenario())
    assert timed_out["message"] == "Internal server error"
    assert after["slept"] == 0
    assert "Task timed out after 2.00 seconds; replacing the worker" in stack.log_path.read_text()


def test_a_crashed_worker_is_replaced(stack: LocalStackProcess) -> None:
    async def scenario() -> list[Any]:
        async with connect(url(stack)) as ws:
            crashed = await reply(ws, {"action": "crash"})
            after = await reply(ws, {"action": "echo"})
            return [crashed, after]

    crashed, after = asyncio.run(scenario())
    assert crashed["message"] == "Internal server error"
    assert after["event"]["requestContext"]["routeKey"] == "echo"
    assert "exit status 3; replacing the worker" in stack.log_path.read_text()


def test_cold_starts_are_logged_and_concurrent_invocations_use_several_workers(
    stack: LocalStackProcess,
) -> None:
    async def scenario() -> list[Any]:
        async with connect(url(stack)) as ws:
            for _ in range(4):
                await ws.send(json.dumps({"action": "sleep", "seconds": 1}))
            return [json.loads(await asyncio.wait_for(ws.recv(), 20)) for _ in range(4)]

    replies = asyncio.run(scenario())
    assert {reply["slept"] for reply in replies} == {1}
    assert len({reply["pid"] for reply in replies}) == 4  # the pool's bound, in the fixture stack
    cold_starts = re.findall(r"RoutesFunction\w*: cold start, init \d+ ms", stack.log_path.read_text())
    assert len(cold_starts) >= 4


def test_a_worker_that_dies_while_idle_is_replaced(stack: LocalStackProcess) -> None:
    async def sleep_zero(ws: Any) -> Any:
        return await reply(ws, {"action": "sleep", "seconds": 0})

    async def scenario() -> tuple[Any, Any]:
        async with connect(url(stack)) as ws:
            first = await sleep_zero(ws)
            os.kill(first["pid"], signal.SIGKILL)  # a worker of the stack this test started
            await asyncio.sleep(0.5)
            return first, await sleep_zero(ws)

    first, after = asyncio.run(scenario())
    assert after["slept"] == 0
    assert after["pid"] != first["pid"]
