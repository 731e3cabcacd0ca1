"""Any body, on any route: a documented reply, nothing escaping, nothing written for a rejected frame."""

from __future__ import annotations

import base64
import json

import pytest
from chat.handlers import broadcast, direct
from chat.models.requests import ACTIONS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.chat.harness import User, dynamodb_requests

FRAME_ROUTES = sorted([*direct.ROUTES, *broadcast.ROUTES])
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}
ERROR_CODES = {
    "BAD_REQUEST",
    "UNKNOWN_ACTION",
    "MESSAGE_TOO_LONG",
    "ROOM_NOT_FOUND",
    "NOT_A_MEMBER",
    "FORBIDDEN",
    "VERIFICATION_REQUIRED",
    "RATE_LIMITED",
    "TOKEN_EXPIRED",
    "TOKEN_INVALID",
    "INTERNAL_ERROR",
}
REPLY_TYPES = {
    "room",
    "joined",
    "left",
    "rooms",
    "ack",
    "messages",
    "readMarked",
    "pong",
    "identity",
    "reauthenticated",
    "error",
}
FIELDS = ["action", "requestId", "roomId", "content", "clientMessageId", "name", "memberIds", "open", "after",
          "before", "limit", "seq", "idToken"]  # fmt: skip

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
objects = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), json_values, max_size=6)
bodies = st.one_of(
    json_values.map(json.dumps),
    objects.map(json.dumps),
    st.text(max_size=60),
    st.binary(max_size=60).map(lambda raw: raw.decode("latin-1")),
    st.sampled_from(["", "{", "[]", "NaN", '{"action": Infinity}', "[" * 5000 + "]" * 5000, "\ud800"]),
)


@pytest.fixture(scope="module")
def caller(chat_table, lambda_server):
    return User().connect()


def check(response: dict, route_key: str, sent: list[str]) -> None:
    assert set(response) <= {"statusCode", "body"} and response["statusCode"] == 200
    if "body" not in response:
        assert route_key == "typing"
        return
    reply = json.loads(response["body"])
    assert isinstance(reply, dict) and reply["type"] in REPLY_TYPES
    if reply["type"] == "error":
        assert reply["code"] in ERROR_CODES
        assert reply["code"] != "INTERNAL_ERROR", reply
        assert isinstance(reply["message"], str) and "Traceback" not in reply["message"]
        assert isinstance(reply["retryable"], bool)
        assert reply.get("action") in (None, *ACTIONS)
        assert not WRITES & set(sent), (reply, sent)


@pytest.mark.parametrize("route_key", FRAME_ROUTES)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies)
def test_any_text_body_gets_a_documented_reply(caller, route_key, body):
    with dynamodb_requests() as sent:
        response = caller.raw(body, route_key=route_key)
    check(response, route_key, sent)


@pytest.mark.parametrize("route_key", FRAME_ROUTES)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=80) | objects.map(lambda o: json.dumps(o).encode()))
def test_any_binary_body_gets_a_documented_reply(caller, route_key, raw):
    with dynamodb_requests() as sent:
        response = caller.raw(base64.b64encode(raw).decode(), route_key=route_key, base64_encoded=True)
    check(response, route_key, sent)
