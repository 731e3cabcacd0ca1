"""Fixture route function: each route does one thing the emulator must handle."""

import contextlib
import json
import os
import sys
import time

import boto3

_ENV_KEYS = (
    "TABLE_NAME",
    "USER_POOL_ID",
    "USER_POOL_CLIENT_IDS",
    "FIXTURE_REGION",
    "JWKS_URL",
    "CONNECTIONS_ENDPOINT",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_ENDPOINT_URL_LAMBDA",
    "AWS_ENDPOINT_URL_SQS",
    "ASYNC_TARGET_FUNCTION_NAME",
    "AGED_TARGET_FUNCTION_NAME",
    "AWS_REGION",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "_HANDLER",
    "LAMBDA_TASK_ROOT",
)


def _reply(value, status=200):
    return {"statusCode": status, "body": json.dumps(value)}


def _post(event, body):
    client = boto3.client("apigatewaymanagementapi", endpoint_url=os.environ["CONNECTIONS_ENDPOINT"])
    target = body.get("target", event["requestContext"]["connectionId"])
    try:
        client.post_to_connection(ConnectionId=target, Data=json.dumps({"pushed": body.get("data")}).encode())
        described = client.get_connection(ConnectionId=target)
    except client.exceptions.GoneException:
        return _reply({"gone": True})
    return _reply({"gone": False, "connectedAt": described["ConnectedAt"].isoformat()})


def _invoke_async(event, body):
    """Hand the payload (plus this connection's id) to another function, as a fan-out would."""
    variable = {"async": "ASYNC_TARGET_FUNCTION_NAME", "aged": "AGED_TARGET_FUNCTION_NAME"}[body["target"]]
    payload = {**body.get("payload", {}), "connectionId": event["requestContext"]["connectionId"]}
    response = boto3.client("lambda").invoke(
        FunctionName=os.environ[variable], InvocationType="Event", Payload=json.dumps(payload)
    )
    return _reply(
        {"statusCode": response["StatusCode"], "requestId": response["ResponseMetadata"]["RequestId"]}
    )


def handler(event, context):
    route = event["requestContext"]["routeKey"]
    body = {}
    with contextlib.suppress(ValueError):
        body = json.loads(event.get("body") or "{}")
    if route in ("echo", "$default", "oneway"):
        environment = {key: os.environ.get(key) for key in _ENV_KEYS}
        info = {"function": context.function_name, "remaining": context.get_remaining_time_in_millis()}
        return _reply({"event": event, "env": environment, "sysPath": sys.path, "context": info})
    if route == "nobody":
        return {"statusCode": 200}
    if route == "raise":
        raise ValueError("route bug")
    if route == "sleep":
        time.sleep(float(body.get("seconds", 0)))
        return _reply({"slept": body.get("seconds"), "pid": os.getpid()})
    if route == "crash":
        os._exit(3)
    if route == "status500":
        return _reply({"problem": "bad"}, 500)
    if route == "post":
        return _post(event, body)
    if route == "sized":  # a route response of `characters` times `text`, as it is (not JSON)
        return {"statusCode": 200, "body": body["text"] * int(body["characters"])}
    if route == "invokeAsync":
        return _invoke_async(event, body)
    return _reply({"unexpected": route})
