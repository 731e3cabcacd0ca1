"""`python -m local_stack`: resources from the template, outputs, port conflicts, Ctrl-C."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from websockets.asyncio.client import connect
from websockets.sync.client import connect as connect_blocking

from stacks.constants import OUTPUT_KEYS
from tests.emulator.support import processes_mentioning
from tests.support.local_stack import REPOSITORY, LocalStackProcess

pytestmark = pytest.mark.slow


def test_outputs_and_resources_follow_the_template(stack: LocalStackProcess) -> None:
    outputs = stack.outputs
    assert set(OUTPUT_KEYS) <= set(outputs)  # the keys a frontend reads, as on AWS
    assert outputs["WebSocketUrl"] == f"ws://127.0.0.1:{stack.ports['ws']}/test"
    assert outputs["CognitoEndpoint"] == f"http://127.0.0.1:{stack.ports['moto']}"
    assert outputs["Region"] == "ap-northeast-1"
    dynamodb = boto3.client("dynamodb", endpoint_url=outputs["DynamoDBEndpoint"])
    table = dynamodb.describe_table(TableName=outputs["TableName"])["Table"]
    assert {(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]} == {
        ("PK", "HASH"),
        ("SK", "RANGE"),
    }
    ttl = dynamodb.describe_time_to_live(TableName=outputs["TableName"])["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "ttl"}
    cognito = boto3.client("cognito-idp", endpoint_url=outputs["CognitoEndpoint"])
    pool = cognito.describe_user_pool(UserPoolId=outputs["UserPoolId"])["UserPool"]
    assert pool["Policies"]["PasswordPolicy"]["MinimumLength"] == 12
    assert pool["UsernameAttributes"] == ["email"]
    client = cognito.describe_user_pool_client(
        UserPoolId=outputs["UserPoolId"], ClientId=outputs["UserPoolClientId"]
    )
    assert "ALLOW_USER_PASSWORD_AUTH" in client["UserPoolClient"]["ExplicitAuthFlows"]


def test_demo_users_sign_in_and_ctrl_c_leaves_nothing_running(
    stack: LocalStackProcess, tmp_path: Path
) -> None:
    # Given a second local stack from the same assembly, with its demo users, and a state
    # directory given relative to the working directory (as `make local` gives `.local`)
    second = LocalStackProcess(Path(os.path.relpath(tmp_path, REPOSITORY)), assembly=stack.assembly_dir)
    outputs = second.start()
    # and a client still connected when Ctrl-C comes (its $disconnect writes to the table)
    with connect_blocking(outputs["WebSocketUrl"] + "?idToken=allow"):
        try:
            reply = asyncio.run(echo(outputs["WebSocketUrl"] + "?idToken=allow"))
            assert reply["event"]["requestContext"]["routeKey"] == "echo"
            cognito = boto3.client("cognito-idp", endpoint_url=outputs["CognitoEndpoint"])
            tokens = cognito.initiate_auth(
                ClientId=outputs["UserPoolClientId"],
                AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": "bob@example.com", "PASSWORD": "Chat-Demo-Passw0rd!"},
            )["AuthenticationResult"]
            assert tokens["IdToken"].count(".") == 2
            assert "python -m chat_cli" in second.log_path.read_text()
        finally:
            # When it gets Ctrl-C
            code = second.stop()
    # Then it exits cleanly, after the held client's $disconnect ran without error (moto outlives
    # the routes), nothing listens on its ports and none of its processes is left
    assert code == 0
    log = second.log_path.read_text()
    assert "stopped" in log and log.count("local_stack.gateway disconnected ") == 2  # echo's and held's
    assert "[ERROR]" not in log and "Traceback" not in log and "KeyboardInterrupt" not in log, log
    for port in second.ports.values():
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0, port
    assert not processes_mentioning(str(tmp_path)) and not processes_mentioning(str(second.ports["moto"]))


def test_a_port_in_use_gives_a_clear_message(stack: LocalStackProcess, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        command = ["-m", "local_stack", "--assembly", str(stack.assembly_dir), "--ws-port", str(port)]
        result = subprocess.run(
            [sys.executable, *command, "--state-dir", str(tmp_path)],
            cwd=REPOSITORY,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode != 0
    assert f"port {port} (WebSocket) is already in use" in result.stderr
    assert "Traceback" not in result.stderr


async def echo(url: str) -> Any:
    async with connect(url) as ws:
        await ws.send(json.dumps({"action": "echo"}))
        return json.loads(await asyncio.wait_for(ws.recv(), 15))
