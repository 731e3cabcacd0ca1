"""Fixture function invoked asynchronously by the route function (and directly by tests).

Each invocation records itself under the event's ``probe`` (kind ``attempt-<request id>-<time>``) with
its start and end times (an invocation record from a destination: under its request payload's
``probe``), then does what ``mode`` says: ``post`` the ``data`` to ``connectionId`` through
``@connections``, ``fail`` (raise), ``sleep`` for ``seconds``, or ``echo`` the event and context back.
"""

import json
import os
import time

import boto3
from store import record


def handler(event, context):
    started = time.time()
    mode = event.get("mode", "echo")
    if mode == "sleep":
        time.sleep(float(event.get("seconds", 0)))
    key = event.get("probe") or event.get("requestPayload", {}).get("probe")
    if key:
        kind = f"attempt-{context.aws_request_id}-{time.time_ns()}"
        record(key, kind, {"event": event, "started": started, "ended": time.time()})
    if mode == "fail":
        raise RuntimeError(f"async target failed on purpose ({event.get('probe')})")
    if mode == "post":
        client = boto3.client("apigatewaymanagementapi", endpoint_url=os.environ["CONNECTIONS_ENDPOINT"])
        client.post_to_connection(
            ConnectionId=event["connectionId"],
            Data=json.dumps({"fromAsync": event.get("data"), "requestId": context.aws_request_id}).encode(),
        )
    return {"echo": event, "function": context.function_name, "requestId": context.aws_request_id}
