"""Real clients of the local stack: Cognito users, tokens (genuine and forged), a WebSocket chat client.

Every frame a ChatClient sends or receives is checked against docs/asyncapi.yaml (tests/support/
contract.py): a violation is raised in the test that sent or waited for the frame, and collected in
VIOLATIONS, which tests/e2e/conftest.py checks after every test.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gzip
import json
import random
import time
import uuid
from dataclasses import dataclass, field
from importlib import resources
from typing import Any
from urllib.parse import quote

import boto3
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from websockets.asyncio.client import ClientConnection, connect

from tests.support.contract import ContractViolation, check_client_frame, check_reply, check_server_frame

PASSWORD = "E2e-Passw0rd!-long-enough"
LONG = "😀" * 5000  # the longest message: 20,000 bytes of UTF-8
# createRoom's per-connection burst as shipped (docs/PROTOCOL.md "Rate limits"): a connection that
# creates more rooms at once is refused RATE_LIMITED, so helpers that make many open one per this many.
ROOMS_PER_CONNECTION = 10
# Frames off docs/asyncapi.yaml, seen by any client during the current test.
VIOLATIONS: list[ContractViolation] = []


@dataclass
class User:
    username: str
    user_id: str
    id_token: str
    access_token: str


def cognito(outputs: dict[str, str]) -> Any:
    return boto3.client("cognito-idp", endpoint_url=outputs["CognitoEndpoint"], region_name=outputs["Region"])


def sign_in(outputs: dict[str, str], username: str, client_id: str | None = None) -> dict[str, str]:
    result = cognito(outputs).initiate_auth(
        ClientId=client_id or outputs["UserPoolClientId"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": PASSWORD},
    )
    return result["AuthenticationResult"]


def new_user(outputs: dict[str, str]) -> User:
    """A user created by an administrator, signed in through initiate_auth as a frontend would."""
    username = f"user-{uuid.uuid4().hex[:10]}@example.com"
    client = cognito(outputs)
    client.admin_create_user(
        UserPoolId=outputs["UserPoolId"],
        Username=username,
        UserAttributes=[{"Name": "email", "Value": username}, {"Name": "email_verified", "Value": "true"}],
        MessageAction="SUPPRESS",
    )
    client.admin_set_user_password(
        UserPoolId=outputs["UserPoolId"], Username=username, Password=PASSWORD, Permanent=True
    )
    tokens = sign_in(outputs, username)
    claims = jwt.decode(tokens["IdToken"], options={"verify_signature": False})
    return User(username, claims["sub"], tokens["IdToken"], tokens["AccessToken"])


@functools.cache
def moto_signing_key() -> tuple[str, Any]:
    """moto's own Cognito signing key (the same for every pool): tokens it signs pass the JWKS check.

    Loaded once: building the private key checks it, ~0.2 s each time (1,500 minted users took
    minutes of test_big_room when it was built per token)."""
    packed = resources.files("moto.cognitoidp").joinpath("resources/jwks-private.json.gz").read_bytes()
    jwk = json.loads(gzip.decompress(packed))
    return jwk["kid"], jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(jwk))


def reissued(token: str, *, forged: bool = False, **claims: Any) -> str:
    """``token`` with some claims changed, re-signed by moto's key (or, ``forged``, by another key)."""
    payload = {**jwt.decode(token, options={"verify_signature": False}), **claims}
    kid, key = moto_signing_key()
    if forged:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid})


def minted_users(template: User, count: int) -> list[User]:
    """`count` more users whose ID tokens moto's key signs (valid for the authorizer like any it
    issues): a room of thousands without thousands of sign-ups through moto."""
    users = []
    for _ in range(count):
        sub = str(uuid.uuid4())
        username = f"minted-{sub[:8]}@example.com"
        token = reissued(template.id_token, sub=sub, email=username, **{"cognito:username": username})
        users.append(User(username, sub, token, ""))
    return users


def scan_count(outputs: dict[str, str]) -> int:
    dynamodb = boto3.client(
        "dynamodb", endpoint_url=outputs["DynamoDBEndpoint"], region_name=outputs["Region"]
    )
    return int(dynamodb.scan(TableName=outputs["TableName"], Select="COUNT")["Count"])


def items_mentioning(outputs: dict[str, str], text: str) -> list[dict[str, Any]]:
    """Every item whose attributes mention ``text`` (a test may Scan; the product never does)."""
    dynamodb = boto3.resource(
        "dynamodb", endpoint_url=outputs["DynamoDBEndpoint"], region_name=outputs["Region"]
    )
    items = dynamodb.Table(outputs["TableName"]).scan()["Items"]
    return [item for item in items if text in json.dumps(item, default=str)]


def is_failed_integration(frame: Any) -> bool:
    """API Gateway's frame for a route whose integration failed (not the product's: no `type`)."""
    return (
        isinstance(frame, dict)
        and set(frame) == {"message", "connectionId", "requestId"}
        and frame["message"] == "Internal server error"
    )


@dataclass
class ChatClient:
    """One WebSocket connection: requests wait for their reply; everything else is kept as events."""

    ws: ClientConnection
    events: list[dict[str, Any]] = field(default_factory=list)
    arrived_at: list[float] = field(default_factory=list)  # time.perf_counter() of each event's arrival
    largest_frame: int = 0  # bytes (UTF-8) of the largest frame received
    # API Gateway's own answer to a failed integration (docs/LOCAL.md, "Messages"), kept here instead
    # of failing the test when the client was opened with tolerate_failed_integrations
    failed_integrations: list[dict[str, Any]] = field(default_factory=list)
    tolerate_failed_integrations: bool = False
    _replies: dict[str, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _reader: asyncio.Task[None] | None = None

    @classmethod
    async def open(
        cls,
        outputs: dict[str, str],
        token: str,
        *,
        open_timeout: float = 10.0,
        tolerate_failed_integrations: bool = False,
    ) -> ChatClient:
        """Connect; raises TimeoutError when the handshake is not done within `open_timeout` s.

        `tolerate_failed_integrations`: API Gateway's `Internal server error` frame (a function that
        failed or timed out: the request it answers gets no reply) is kept in `failed_integrations`,
        as clients/js ignores it and retries, instead of being a frame off the contract."""
        url = f"{outputs['WebSocketUrl']}?idToken={quote(token, safe='')}"
        ws = await connect(url, max_size=None, open_timeout=open_timeout)
        client = cls(ws, tolerate_failed_integrations=tolerate_failed_integrations)
        client._reader = asyncio.create_task(client._read())
        return client

    async def _read(self) -> None:
        with contextlib.suppress(Exception):
            async for raw in self.ws:
                size = len(raw.encode("utf-8") if isinstance(raw, str) else raw)
                self.largest_frame = max(self.largest_frame, size)
                frame = json.loads(raw)
                if self.tolerate_failed_integrations and is_failed_integration(frame):
                    self.failed_integrations.append(frame)
                    continue
                with contextlib.suppress(ContractViolation):  # recorded; the test's next wait raises it
                    self._conforms(check_server_frame, frame)
                future = self._replies.pop(frame.get("requestId", ""), None)
                if future is not None and not future.done():
                    future.set_result(frame)
                else:
                    self.events.append(frame)
                    self.arrived_at.append(time.perf_counter())
                    self._arrived.set()

    def _conforms(self, check: Any, *args: Any) -> None:
        try:
            check(*args)
        except ContractViolation as violation:
            VIOLATIONS.append(violation)
            raise

    async def request(self, action: str, timeout: float = 20.0, **fields: Any) -> dict[str, Any]:
        """Send a frame the contract allows and return its reply (which must be one of the action's)."""
        frame = {"action": action, "requestId": uuid.uuid4().hex, **fields}
        self._conforms(check_client_frame, frame)
        reply = await self._exchange(frame, timeout)
        self._conforms(check_reply, action, reply)
        return reply

    async def request_off_contract(self, action: str, timeout: float = 20.0, **fields: Any) -> dict[str, Any]:
        """Send a frame docs/asyncapi.yaml does not allow (to see it refused): the reply is an error."""
        reply = await self._exchange({"action": action, "requestId": uuid.uuid4().hex, **fields}, timeout)
        if reply.get("type") != "error":
            violation = ContractViolation(f"a frame off the contract was accepted: {action} got {reply!r}")
            VIOLATIONS.append(violation)
            raise violation
        return reply

    async def _exchange(self, frame: dict[str, Any], timeout: float) -> dict[str, Any]:
        self._raise_violations()
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._replies[frame["requestId"]] = future
        await self.ws.send(json.dumps(frame, ensure_ascii=False))  # UTF-8, as browsers send it
        reply = await asyncio.wait_for(future, timeout)
        self._raise_violations()
        return reply

    async def notify(self, action: str, **fields: Any) -> None:
        """Send a frame without a requestId (typing): nothing waits for a reply."""
        frame = {"action": action, **fields}
        self._conforms(check_client_frame, frame)
        await self.ws.send(json.dumps(frame))

    async def send_raw(self, frame: str) -> None:
        """Send bytes that are not a frame at all (not JSON, not an object): unchecked."""
        await self.ws.send(frame)

    def _raise_violations(self) -> None:
        if VIOLATIONS:
            raise VIOLATIONS[0]

    async def wait_for(
        self, predicate: Any, *, count: int = 1, timeout: float = 20.0
    ) -> list[dict[str, Any]]:
        """Wait until ``count`` events match ``predicate``; return them."""
        deadline = time.monotonic() + timeout
        while True:
            self._raise_violations()
            matching = [event for event in self.events if predicate(event)]
            if len(matching) >= count:
                return matching
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{len(matching)}/{count} events; got {self.events[-5:]}")
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), remaining)

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [event for event in self.events if event.get("type") == kind]

    async def close(self) -> None:
        await self.ws.close()
        if self._reader is not None:
            await self._reader


async def rooms_with_long_last_messages(
    outputs: dict[str, str], owner: User, member: User, names: list[str]
) -> list[str]:
    """Rooms of `owner` listing `member`, named `names`, each with a 20 KB last message starting with
    its index (`00`, `01`, ...): a dozen are more than one 128 KB `rooms` frame holds. Their ids."""
    made: list[str] = []
    for start in range(0, len(names), ROOMS_PER_CONNECTION):
        client = await ChatClient.open(outputs, owner.id_token)
        try:
            for index, name in enumerate(names[start : start + ROOMS_PER_CONNECTION], start):
                room = (await client.request("createRoom", name=name, memberIds=[member.user_id]))["room"]
                ack = await client.request(
                    "sendMessage", roomId=room["roomId"], content=f"{index:02d}" + LONG[2:]
                )
                assert ack["type"] == "ack", ack
                made.append(room["roomId"])
        finally:
            await client.close()
    return made


async def send_until_stored(client: ChatClient, room_id: str, content: str) -> dict[str, Any]:
    """Send with a clientMessageId and retry what the protocol says is retryable (RATE_LIMITED, ...),
    backing off as a real client does; return the ack."""
    client_message_id = str(uuid.uuid4())
    for attempt in range(30):
        reply = await client.request(
            "sendMessage", roomId=room_id, content=content, clientMessageId=client_message_id, timeout=60
        )
        if reply["type"] == "ack":
            return reply
        assert reply["type"] == "error" and reply["retryable"], reply
        await asyncio.sleep(0.2 + random.random() * 0.3 * (attempt + 1))
    raise AssertionError(f"{content} was never stored")
