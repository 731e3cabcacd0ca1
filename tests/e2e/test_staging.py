"""What only another environment's settings show: verified senders (staging) and an internal error."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator

import boto3
import pytest

from tests.e2e.support import ChatClient, new_user
from tests.support.local_stack import REPOSITORY, LocalStackProcess

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def staging(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    process = LocalStackProcess(tmp_path_factory.mktemp("chat-staging"), env="staging", no_demo_users=True)
    yield process.start()
    process.stop()


def approve_sender(outputs: dict[str, str], user_id: str) -> None:
    """What an operator does (docs/DATA_MODEL.md): the admin command, against the stack's table."""
    env = {**os.environ, "AWS_ENDPOINT_URL_DYNAMODB": outputs["DynamoDBEndpoint"]}
    command = [sys.executable, "-m", "admin", "approve", user_id, "--table", outputs["TableName"]]
    subprocess.run(command, env=env, cwd=REPOSITORY, check=True, timeout=60, capture_output=True)


def test_an_unapproved_sender_gets_verification_required(staging: dict[str, str]) -> None:
    alice = new_user(staging)

    async def scenario() -> None:
        a = await ChatClient.open(staging, alice.id_token)
        refused = await a.request("createRoom", name="vetted")  # a room's name reaches its members
        assert refused["code"] == "VERIFICATION_REQUIRED" and refused["retryable"] is False
        await asyncio.to_thread(approve_sender, staging, alice.user_id)
        room_id = (await a.request("createRoom", name="vetted"))["room"]["roomId"]
        assert (await a.request("sendMessage", roomId=room_id, content="hello"))["type"] == "ack"
        await a.close()

    asyncio.run(scenario())


def test_an_unexpected_failure_is_internal_error_and_the_connection_stays(staging: dict[str, str]) -> None:
    alice = new_user(staging)

    async def scenario() -> None:
        a = await ChatClient.open(staging, alice.id_token)
        # The fault: the table disappears under the running functions.
        dynamodb = boto3.client("dynamodb", endpoint_url=staging["DynamoDBEndpoint"])
        await asyncio.to_thread(dynamodb.delete_table, TableName=staging["TableName"])
        failed = await a.request("listRooms")
        assert failed["code"] == "INTERNAL_ERROR" and failed["retryable"] is True
        assert "Table" not in json.dumps(failed) and "Traceback" not in failed["message"]
        # The connection stays usable: the next request is answered (ping refreshes the table too).
        after = await a.request("ping")
        assert after["type"] == "pong" or after["code"] == "INTERNAL_ERROR"
        await a.close()

    asyncio.run(scenario())
