"""Lambda's Invoke API and asynchronous invocation, driven through the fixture's route function.

The route ``invokeAsync`` hands a payload to a second function with ``InvocationType="Event"``, as a
fan-out does; that function's EventInvokeConfig (two retries, an SQS queue on failure) comes from
the template. The session stack runs the async clock 200 times faster (tests/emulator/conftest.py).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from websockets.asyncio.client import connect

from tests.emulator.support import ASYNC_SCALE, probe, processes_mentioning, recorded, url
from tests.support.local_stack import REPOSITORY, LocalStackProcess

pytestmark = pytest.mark.slow

ACCOUNT = "123456789012"
REGION = "ap-northeast-1"
RETRY_DELAYS = (60 * ASYNC_SCALE, 120 * ASYNC_SCALE)  # Lambda's one and two minutes, scaled


def lambda_client(stack: LocalStackProcess) -> Any:
    return boto3.client("lambda", endpoint_url=stack.outputs["LambdaEndpoint"], region_name=REGION)


def target_name(stack: LocalStackProcess) -> str:
    """The async target's name as the route function's environment has it (a ``Ref``)."""
    return route_environment(stack)["ASYNC_TARGET_FUNCTION_NAME"]


def aged_name(stack: LocalStackProcess) -> str:
    return route_environment(stack)["AGED_TARGET_FUNCTION_NAME"]


def route_environment(stack: LocalStackProcess) -> dict[str, str]:
    async def scenario() -> Any:
        async with connect(url(stack)) as ws:
            await ws.send(json.dumps({"action": "echo"}))
            return json.loads(await asyncio.wait_for(ws.recv(), 15))

    return scenario_result(scenario())["env"]


def scenario_result(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


async def invoke_async(ws: Any, target: str, payload: dict[str, Any]) -> dict[str, Any]:
    await ws.send(json.dumps({"action": "invokeAsync", "target": target, "payload": payload}))
    return json.loads(await asyncio.wait_for(ws.recv(), 15))


def attempts(stack: LocalStackProcess, key: str, count: int, *, wait: float = 20.0) -> list[dict[str, Any]]:
    """The attempts the async target recorded under ``key``, once there are ``count`` of them."""
    deadline = time.monotonic() + wait
    while True:
        found = [value for kind, value in recorded(stack, key, wait=0).items() if kind.startswith("attempt-")]
        if len(found) >= count or time.monotonic() > deadline:
            return sorted(found, key=lambda attempt: attempt["started"])
        time.sleep(0.1)


def queued_records(stack: LocalStackProcess, output: str, key: str, *, wait: float = 20.0) -> list[Any]:
    """Invocation records for ``key`` in the queue named by ``output``, read from moto with boto3."""
    messages = queued_messages(stack, output, lambda body: body["requestPayload"].get("probe") == key, wait)
    return [json.loads(message["Body"]) for message in messages]


def queued_messages(
    stack: LocalStackProcess, output: str, wanted: Callable[[Any], bool], wait: float = 20.0
) -> list[dict[str, Any]]:
    """The messages (bodies parsed) that ``wanted`` picks from the queue named by ``output``.

    Short polls only: moto serves one request at a time, and a long poll would hold it.
    """
    sqs = boto3.client("sqs", endpoint_url=stack.outputs["SQSEndpoint"], region_name=REGION)
    deadline = time.monotonic() + wait
    found: list[dict[str, Any]] = []
    while not found and time.monotonic() < deadline:
        messages = sqs.receive_message(
            QueueUrl=stack.outputs[output], MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        ).get("Messages", [])
        for message in messages:
            if wanted(json.loads(message["Body"])):
                found.append(message)
                sqs.delete_message(QueueUrl=stack.outputs[output], ReceiptHandle=message["ReceiptHandle"])
        if not found:
            time.sleep(0.2)
    return found


def test_route_function_invokes_a_function_asynchronously(stack: LocalStackProcess) -> None:
    key = probe()

    async def scenario() -> list[Any]:
        async with connect(url(stack)) as ws:
            first = await invoke_async(ws, "async", {"mode": "post", "data": key, "probe": key})
            second = json.loads(await asyncio.wait_for(ws.recv(), 15))
            return [first, second]

    frames = scenario_result(scenario())
    # The route's reply (Invoke answered 202) and the target's post reach the client in either order.
    reply = next(frame for frame in frames if "statusCode" in frame)
    pushed = next(frame for frame in frames if "fromAsync" in frame)
    assert reply["statusCode"] == 202
    assert pushed == {"fromAsync": key, "requestId": reply["requestId"]}
    (attempt,) = attempts(stack, key, 1)
    assert attempt["event"]["connectionId"]
    # and its OnSuccess destination (a queue) has the invocation record, with the function's result
    (record,) = queued_records(stack, "AsyncSuccessesQueueUrl", key)
    assert record["requestContext"] == {
        "requestId": reply["requestId"],
        "functionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{target_name(stack)}:$LATEST",
        "condition": "Success",
        "approximateInvokeCount": 1,
    }
    assert record["requestPayload"] == attempt["event"]
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert record["responsePayload"] == {
        "echo": attempt["event"],
        "function": target_name(stack),
        "requestId": reply["requestId"],
    }
    log = stack.log_path.read_text()
    assert f"async event {reply['requestId']} succeeded (attempt 1," in log
    assert f"async event {reply['requestId']}: Success record sent to arn:aws:sqs:" in log


def test_a_function_destination_is_invoked_with_the_record(stack: LocalStackProcess) -> None:
    # The aged target's OnSuccess destination is the async target (a function of the template).
    key = probe()

    async def scenario() -> dict[str, Any]:
        async with connect(url(stack)) as ws:
            return await invoke_async(ws, "aged", {"mode": "echo", "probe": key})

    reply = scenario_result(scenario())
    tries = attempts(stack, key, 2)
    assert len(tries) == 2  # the aged target's own invocation, then the async target's with the record
    record = next(attempt["event"] for attempt in tries if "requestContext" in attempt["event"])
    assert record["requestContext"]["requestId"] == reply["requestId"]
    assert record["requestContext"]["condition"] == "Success"
    assert record["requestContext"]["functionArn"].endswith(":function:" + aged_name(stack) + ":$LATEST")
    assert record["requestPayload"]["probe"] == key
    assert record["responsePayload"]["function"] == aged_name(stack)


def test_a_failing_event_is_retried_then_recorded_in_the_failure_queue(stack: LocalStackProcess) -> None:
    key = probe()

    async def scenario() -> dict[str, Any]:
        async with connect(url(stack)) as ws:
            return await invoke_async(ws, "async", {"mode": "fail", "probe": key})

    reply = scenario_result(scenario())
    (record,) = queued_records(stack, "AsyncFailuresQueueUrl", key)
    # The first attempt and exactly MaximumRetryAttempts (2) retries, the same request id throughout
    time.sleep(RETRY_DELAYS[-1] * 2)
    tries = attempts(stack, key, 3, wait=0)
    assert len(tries) == 3
    # with Lambda's waits (one minute, then two), scaled
    assert tries[1]["started"] - tries[0]["ended"] >= RETRY_DELAYS[0] * 0.95
    assert tries[2]["started"] - tries[1]["ended"] >= RETRY_DELAYS[1] * 0.95
    # and the record is Lambda's invocation record
    assert record["version"] == "1.0"
    assert record["requestContext"] == {
        "requestId": reply["requestId"],
        "functionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{target_name(stack)}:$LATEST",
        "condition": "RetriesExhausted",
        "approximateInvokeCount": 3,
    }
    assert record["requestPayload"] == tries[0]["event"]
    assert record["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    assert record["responsePayload"]["errorType"] == "RuntimeError"
    assert record["responsePayload"]["errorMessage"] == f"async target failed on purpose ({key})"
    assert record["responsePayload"]["stackTrace"]
    log = stack.log_path.read_text()
    assert f"async event {reply['requestId']} failed (attempt 1 of 3, RuntimeError" in log
    assert f"async event {reply['requestId']} failed (attempt 3 of 3, RuntimeError" in log
    assert f"async event {reply['requestId']}: RetriesExhausted record sent to " in log


def test_an_event_older_than_its_maximum_age_is_discarded(stack: LocalStackProcess) -> None:
    # MaximumEventAgeInSeconds 60 and a one-minute wait before the first retry: the retry is too old.
    key = probe()

    async def scenario() -> dict[str, Any]:
        async with connect(url(stack)) as ws:
            return await invoke_async(ws, "aged", {"mode": "fail", "probe": key})

    reply = scenario_result(scenario())
    (record,) = queued_records(stack, "AgedFailuresQueueUrl", key)
    assert record["requestContext"]["condition"] == "EventAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert record["requestContext"]["requestId"] == reply["requestId"]
    assert record["responsePayload"]["errorType"] == "RuntimeError"
    (attempt,) = attempts(stack, key, 1, wait=0)
    # and the event itself is in the function's dead-letter queue, with Lambda's attributes
    (dead,) = queued_messages(stack, "AgedDeadLettersQueueUrl", lambda body: body.get("probe") == key)
    assert json.loads(dead["Body"]) == attempt["event"]
    assert {name: value["StringValue"] for name, value in dead["MessageAttributes"].items()} == {
        "RequestID": reply["requestId"],
        "ErrorCode": "200",
        "ErrorMessage": f"async target failed on purpose ({key})",
    }
    log = stack.log_path.read_text()
    assert f"async event {reply['requestId']} discarded after 1 attempt(s)" in log
    assert f"async event {reply['requestId']} sent to the dead-letter queue arn:aws:sqs:" in log


def test_events_run_in_parallel_up_to_the_worker_count(stack: LocalStackProcess) -> None:
    client, name, key = lambda_client(stack), target_name(stack), probe()
    for _ in range(6):
        payload = json.dumps({"mode": "sleep", "seconds": 1.0, "probe": key})
        assert client.invoke(FunctionName=name, InvocationType="Event", Payload=payload)["StatusCode"] == 202
    tries = attempts(stack, key, 6, wait=30)
    assert len(tries) == 6
    edges = sorted([(t["started"], 1) for t in tries] + [(t["ended"], -1) for t in tries])
    running, most = 0, 0
    for _, change in edges:
        running += change
        most = max(most, running)
    assert 2 <= most <= 4  # the session stack runs 4 workers per function


def test_request_response_invoke_with_boto3(stack: LocalStackProcess) -> None:
    client, name = lambda_client(stack), target_name(stack)
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
    for function_name, qualifier in (
        (name, None),
        (arn, None),
        (f"{ACCOUNT}:function:{name}", None),
        (f"{arn}:$LATEST", None),
        (name, "$LATEST"),
    ):
        extra = {"Qualifier": qualifier} if qualifier else {}
        response = client.invoke(
            FunctionName=function_name, Payload=json.dumps({"mode": "echo", "n": 1}), **extra
        )
        assert response["StatusCode"] == 200
        assert response["ExecutedVersion"] == "$LATEST"
        assert "FunctionError" not in response
        result = json.loads(response["Payload"].read())
        assert result["echo"] == {"mode": "echo", "n": 1}
        assert result["function"] == name
        assert result["requestId"] == response["ResponseMetadata"]["RequestId"]
    # no payload: the function gets {}
    assert json.loads(client.invoke(FunctionName=name)["Payload"].read())["echo"] == {}
    # a function error: 200 with the error object and X-Amz-Function-Error, as Lambda answers
    failed = client.invoke(FunctionName=name, Payload=json.dumps({"mode": "fail", "probe": "sync"}))
    assert failed["StatusCode"] == 200
    assert failed["FunctionError"] == "Unhandled"
    error = json.loads(failed["Payload"].read())
    assert error["errorType"] == "RuntimeError"
    assert error["errorMessage"] == "async target failed on purpose (sync)"
    # a timeout (the template's 2 s) is a function error too
    slow = client.invoke(FunctionName=name, Payload=json.dumps({"mode": "sleep", "seconds": 3}))
    assert slow["FunctionError"] == "Unhandled"
    assert json.loads(slow["Payload"].read()) == {
        "errorMessage": "Task timed out after 2.00 seconds",
        "errorType": "Sandbox.Timedout",
    }
    assert client.invoke(FunctionName=name, InvocationType="DryRun")["StatusCode"] == 204


@pytest.mark.parametrize(
    ("function_name", "qualifier", "shown"),
    [
        ("NoSuchFunction", None, f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:NoSuchFunction"),
        (f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:TARGET", None, None),
        ("arn:aws:lambda:ap-northeast-1:210987654321:function:TARGET", None, None),
        ("TARGET", "1", None),
        ("TARGET:live", None, None),
    ],
)
def test_an_unknown_function_is_not_found(
    stack: LocalStackProcess, function_name: str, qualifier: str | None, shown: str | None
) -> None:
    client, name = lambda_client(stack), target_name(stack)
    extra = {"Qualifier": qualifier} if qualifier else {}
    for invocation_type in ("RequestResponse", "Event", "DryRun"):
        with pytest.raises(client.exceptions.ResourceNotFoundException) as missing:
            client.invoke(
                FunctionName=function_name.replace("TARGET", name), InvocationType=invocation_type, **extra
            )
        assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
        if shown is not None:
            assert missing.value.response["Error"]["Message"] == f"Function not found: {shown}"


def test_payloads_over_lambdas_limits_are_refused(stack: LocalStackProcess) -> None:
    client, name = lambda_client(stack), target_name(stack)

    def payload(size: int) -> bytes:
        encoded = json.dumps({"mode": "echo", "pad": ""}).encode()
        return json.dumps({"mode": "echo", "pad": "x" * (size - len(encoded))}).encode()

    # Event: 1 MB (1,048,576 bytes) is the limit, inclusive
    assert (
        client.invoke(FunctionName=name, InvocationType="Event", Payload=payload(1024 * 1024))["StatusCode"]
        == 202
    )
    for invocation_type, limit, message in (
        ("Event", 1024 * 1024, "1048577 byte payload is too large for the Event invocation type"),
        ("RequestResponse", 6 * 1024 * 1024, "Request must be smaller than 6291456 bytes"),
    ):
        with pytest.raises(client.exceptions.RequestTooLargeException) as too_large:
            client.invoke(FunctionName=name, InvocationType=invocation_type, Payload=payload(limit + 1))
        assert too_large.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
        assert too_large.value.response["Error"]["Message"].startswith(message)


def test_a_payload_that_is_not_json_is_refused(stack: LocalStackProcess) -> None:
    client, name = lambda_client(stack), target_name(stack)
    with pytest.raises(ClientError) as invalid:
        client.invoke(FunctionName=name, Payload=b"{not json")
    assert invalid.value.response["Error"]["Code"] == "InvalidRequestContentException"
    assert invalid.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_every_function_gets_the_local_lambda_and_sqs_endpoints(stack: LocalStackProcess) -> None:
    environment = route_environment(stack)
    assert environment["AWS_ENDPOINT_URL_LAMBDA"] == stack.outputs["LambdaEndpoint"]
    assert environment["AWS_ENDPOINT_URL_SQS"] == stack.outputs["SQSEndpoint"]
    assert environment["ASYNC_TARGET_FUNCTION_NAME"].startswith("EmulatorFixture-AsyncTargetFunction")


def test_ctrl_c_drops_queued_events_lets_running_ones_finish_and_leaves_nothing_running(
    stack: LocalStackProcess, tmp_path: Path
) -> None:
    # Given a local stack with two workers per function, two events running and six queued
    second = LocalStackProcess(
        Path(os.path.relpath(tmp_path, REPOSITORY)),
        assembly=stack.assembly_dir,
        no_demo_users=True,
        workers_per_function=2,
    )
    second.start()
    try:
        client, name = lambda_client(second), target_name(stack)
        payload = json.dumps({"mode": "sleep", "seconds": 1.5})
        for _ in range(8):
            assert (
                client.invoke(FunctionName=name, InvocationType="Event", Payload=payload)["StatusCode"] == 202
            )
        time.sleep(0.5)
    finally:
        # When it gets Ctrl-C (with the test's keep-alive connection to the Invoke API still open)
        code = second.stop()
    # Then the queued events are dropped and counted, the running ones finish, and it exits cleanly
    assert code == 0
    log = second.log_path.read_text()
    assert "stopping: 6 queued asynchronous event(s) dropped" in log
    assert log.count("succeeded (attempt 1,") == 2
    assert "Traceback" not in log and "[ERROR]" not in log, log
    for port in second.ports.values():
        with socket.socket() as connection:
            assert connection.connect_ex(("127.0.0.1", port)) != 0, port
    assert not processes_mentioning(str(tmp_path)) and not processes_mentioning(str(second.ports["moto"]))
