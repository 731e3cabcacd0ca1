"""Drive the route functions the way API Gateway does: real event shapes, one handler per route group.

`User.connect()` runs `$connect` and returns a `ClientConnection`; `ClientConnection.send(action,
**fields)` builds the MESSAGE event API Gateway would deliver for that frame, routes it (by
`$request.body.action`, else `$default`) to the function that owns the route, and returns the
decoded direct reply.
"""

from __future__ import annotations

import base64
import copy
import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from chat.dal import client as dal_client
from chat.handlers import broadcast, direct, fanout, lifecycle, pipeline
from chat.logic import reauth

import route_keys
from stacks.fanout_queue import MAX_RECEIVE_COUNT
from tests.chat.baseline import FANOUT_FUNCTION
from tests.support.lambda_server import LambdaServer
from tests.support.tokens import DEFAULT_CLIENT_ID, DEFAULT_POOL_ID, DEFAULT_REGION

EVENTS = Path(__file__).parent / "events"
HANDLER_MODULES = (lifecycle, direct, broadcast, fanout)
FUNCTIONS = {
    **dict.fromkeys(direct.ROUTES, direct.handler),
    **dict.fromkeys(broadcast.ROUTES, broadcast.handler),
    **dict.fromkeys(lifecycle.ROUTES, lifecycle.handler),
}


def reload_settings() -> None:
    """Every function parses its settings again, with the code Lambda runs when it imports it."""
    for module in HANDLER_MODULES:
        module.SETTINGS = pipeline.load_settings(module.__name__)


class FunctionEnvironment:
    """The functions' environment variables for one test (monkeypatch undoes them afterwards)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self._monkeypatch = monkeypatch

    def set(self, **variables: str) -> None:
        for name, value in variables.items():
            self._monkeypatch.setenv(name, value)
        reload_settings()

    def use_verifier(self, jwks_url: str) -> None:
        """The `reauth` verifier's variables, as the stack sets them (keys from `jwks_url`, no leeway),
        in a fresh container (no verifier built yet)."""
        reauth.token_verifier.cache_clear()
        self.set(
            USER_POOL_ID=DEFAULT_POOL_ID,
            USER_POOL_CLIENT_IDS=DEFAULT_CLIENT_ID,
            COGNITO_REGION=DEFAULT_REGION,
            JWKS_URL=jwks_url,
            TOKEN_LEEWAY_SECONDS="0",
        )

    def delete(self, *names: str) -> None:
        for name in names:
            self._monkeypatch.delenv(name, raising=False)
        reload_settings()


@dataclass
class LambdaContext:
    """The attributes Powertools reads from Lambda's context object."""

    function_name: str = "chat-test"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:ap-northeast-1:123456789012:function:chat-test"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass(frozen=True)
class FanoutQueues:
    sqs: Any
    url: str
    dead_letter_url: str


def create_fanout_queues(endpoint: str) -> FanoutQueues:
    """The stack's FIFO queue and its dead-letter queue (fresh names), in the SQS at `endpoint`."""
    sqs = boto3.client(
        "sqs",
        endpoint_url=endpoint,
        region_name=DEFAULT_REGION,
        aws_access_key_id="t",
        aws_secret_access_key="t",
    )
    name = f"chat-fanout-{uuid.uuid4().hex[:8]}"
    fifo = {"FifoQueue": "true", "VisibilityTimeout": "360"}
    dead_letter_url = sqs.create_queue(QueueName=f"{name}-dlq.fifo", Attributes=fifo)["QueueUrl"]
    dead_letter_arn = sqs.get_queue_attributes(QueueUrl=dead_letter_url, AttributeNames=["QueueArn"])
    redrive = {
        "deadLetterTargetArn": dead_letter_arn["Attributes"]["QueueArn"],
        "maxReceiveCount": MAX_RECEIVE_COUNT,
    }
    url = sqs.create_queue(
        QueueName=f"{name}.fifo", Attributes={**fifo, "RedrivePolicy": json.dumps(redrive)}
    )["QueueUrl"]
    return FanoutQueues(sqs, url, dead_letter_url)


def lambda_service() -> LambdaServer:
    """The Lambda API the route code invokes the fan-out function through (started by conftest)."""
    return LambdaServer({FANOUT_FUNCTION: fanout.handler})


_lambda: list[LambdaServer] = []


def use_lambda(server: LambdaServer) -> None:
    _lambda[:] = [server]


def settle() -> None:
    """Wait until every fan-out the last call started has run (on AWS: moments later)."""
    if _lambda:
        _lambda[0].drain()


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / f"{name}.json").read_text())


def new_id() -> str:
    return str(uuid.uuid4())


def new_connection_id() -> str:
    """Shaped like API Gateway's (base64, ends with '=')."""
    return base64.b64encode(uuid.uuid4().bytes[:10]).decode()


@dataclass
class User:
    user_id: str = field(default_factory=new_id)
    username: str = field(default_factory=lambda: f"user-{uuid.uuid4().hex[:8]}")
    email: str | None = "someone@example.com"
    token_expires_at: int = field(default_factory=lambda: int(time.time()) + 3600)

    display_name: str = ""

    def authorizer(self) -> dict[str, Any]:
        context: dict[str, Any] = {
            "principalId": self.user_id,
            "userId": self.user_id,
            "username": self.username,
            "displayName": self.display_name or self.username,
            "tokenExpiresAt": str(self.token_expires_at),
            "integrationLatency": 42,
        }
        if self.email is not None:
            context["email"] = self.email
        return context

    def connect(self, connection_id: str | None = None) -> ClientConnection:
        connection = ClientConnection(self, connection_id or new_connection_id())
        response = connection.lifecycle("connect")
        assert response == {"statusCode": 200}, response
        return connection


@dataclass
class ClientConnection:
    user: User
    connection_id: str

    def event(self, template: str, route_key: str) -> dict[str, Any]:
        event = copy.deepcopy(load_event(template))
        context = event["requestContext"]
        context.update(
            routeKey=route_key,
            connectionId=self.connection_id,
            authorizer=self.user.authorizer(),
            requestId=new_id(),
            requestTimeEpoch=int(time.time() * 1000),  # when API Gateway received the frame
        )
        return event

    def lifecycle(self, kind: str) -> dict[str, Any]:
        event = self.event(kind, f"${kind}")
        response = lifecycle.handler(event, LambdaContext())
        settle()
        return response

    def disconnect(self) -> dict[str, Any]:
        return self.lifecycle("disconnect")

    def raw(
        self, body: Any, *, route_key: str, base64_encoded: bool = False, settle_after: bool = True
    ) -> dict[str, Any]:
        """Invoke `route_key`'s function with any body; returns the function's whole response.

        Then waits for the fan-outs it started, unless `settle_after` is false.
        """
        event = self.event("message", route_key)
        event["body"] = body
        event["isBase64Encoded"] = base64_encoded
        response = FUNCTIONS[route_key](event, LambdaContext())
        if settle_after:
            settle()
        return response

    def send(self, action: str, *, settle: bool = True, **fields: Any) -> dict[str, Any] | None:
        """Send one frame; returns the direct reply (None when the function sends no body)."""
        body = json.dumps({"action": action, **fields})
        route_key = action if action in route_keys.ACTIONS else route_keys.DEFAULT
        response = self.raw(body, route_key=route_key, settle_after=settle)
        assert response["statusCode"] == 200, response
        return json.loads(response["body"]) if "body" in response else None


@contextmanager
def dynamodb_requests() -> Iterator[list[str]]:
    """Record the operation of every HTTP request (each attempt) the functions send to DynamoDB."""
    sent: list[str] = []

    def record(request: Any, **_: Any) -> None:
        sent.append(request.headers["X-Amz-Target"].decode().split(".")[-1])

    events = dal_client.low_level().meta.events
    events.register("before-send.dynamodb", record)
    try:
        yield sent
    finally:
        events.unregister("before-send.dynamodb", record)
