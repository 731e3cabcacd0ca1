"""The error frame: shape, requestId echo, $default's UNKNOWN_ACTION, INTERNAL_ERROR without details."""

from __future__ import annotations

import base64
import json

from chat.models.requests import ACTIONS

from tests.chat.harness import User, dynamodb_requests


def reply_of(response: dict) -> dict:
    assert response["statusCode"] == 200
    return json.loads(response["body"])


def test_unknown_action_lists_the_valid_ones(chat_env):
    connection = User().connect()

    reply = connection.send("teleport", requestId="u1")

    assert reply["type"] == "error" and reply["code"] == "UNKNOWN_ACTION" and reply["retryable"] is False
    assert reply["requestId"] == "u1"
    assert "action" not in reply  # an unknown action is not echoed as the error's action
    assert all(action in reply["message"] for action in ACTIONS)


def test_frames_that_are_not_json_objects_are_bad_requests(chat_env):
    connection = User().connect()
    for body in ("not json", "[1,2]", '"text"', "42", "null", "", '{"action": NaN}'):
        reply = reply_of(connection.raw(body, route_key="$default"))
        assert reply["code"] == "BAD_REQUEST", body
        assert "requestId" not in reply
    assert reply_of(connection.raw(None, route_key="$default"))["code"] == "BAD_REQUEST"
    assert reply_of(connection.raw(json.dumps({"requestId": "x"}), route_key="$default")) == {
        "type": "error",
        "code": "BAD_REQUEST",
        "message": "action is required",
        "retryable": False,
        "requestId": "x",
    }
    assert reply_of(connection.raw(json.dumps({"action": 3}), route_key="$default"))["code"] == "BAD_REQUEST"


def test_a_binary_frame_is_decoded_like_a_text_frame(chat_env):
    connection = User().connect()
    body = base64.b64encode(json.dumps({"action": "ping", "requestId": "b"}).encode()).decode()

    assert reply_of(connection.raw(body, route_key="ping", base64_encoded=True)) == {
        "type": "pong",
        "requestId": "b",
    }
    assert reply_of(connection.raw("%%%", route_key="ping", base64_encoded=True))["code"] == "BAD_REQUEST"


def test_an_invalid_request_id_is_a_bad_request_and_is_not_echoed(chat_env):
    connection = User().connect()
    for request_id in ("x" * 65, 12, "", ["a"]):
        reply = connection.send("ping", requestId=request_id)
        assert reply["code"] == "BAD_REQUEST" and "requestId" not in reply and reply["action"] == "ping"
    assert connection.send("ping", requestId="x" * 64)["requestId"] == "x" * 64


def test_a_frame_over_32_kb_is_a_bad_request(chat_env):
    connection = User().connect()
    reply = connection.send("sendMessage", roomId="r", content="x" * 4000, padding="y" * 33_000)
    assert reply["code"] == "BAD_REQUEST"


def formatted_logs(caplog) -> list[dict]:
    """The records as the function's Powertools logger writes them (JSON, with its appended keys)."""
    from chat.observability import logger

    return [json.loads(logger.registered_formatter.format(record)) for record in caplog.records]


def test_an_unexpected_failure_is_internal_error_with_no_details(chat_env, function_env, caplog):
    """The table is missing (a broken deployment): the client gets INTERNAL_ERROR, the logs get the trace."""
    connection = User().connect()
    function_env.set(TABLE_NAME="no-such-table")
    caplog.clear()

    reply = connection.send("listRooms", requestId="i1")

    assert reply == {
        "type": "error",
        "code": "INTERNAL_ERROR",
        "message": "something went wrong on our side: retry",
        "retryable": True,
        "action": "listRooms",
        "requestId": "i1",
    }
    [failure] = [entry for entry in formatted_logs(caplog) if entry.get("message") == "request failed"]
    assert "ResourceNotFoundException" in failure["exception"]
    assert failure["connection_id"] == connection.connection_id
    assert failure["user_id"] == connection.user.user_id
    assert failure["client_request_id"] == "i1"


def test_a_route_without_authorizer_context_is_internal_error_and_touches_nothing(chat_env):
    connection = User().connect()
    event = connection.event("message", "listRooms")
    event["requestContext"]["authorizer"] = None
    event["body"] = json.dumps({"action": "listRooms"})
    from chat.handlers import direct

    from tests.chat.harness import LambdaContext

    with dynamodb_requests() as sent:
        reply = reply_of(direct.handler(event, LambdaContext()))

    assert reply["code"] == "INTERNAL_ERROR"
    assert sent == []
