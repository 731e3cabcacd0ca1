"""reauth: a fresh ID token of the same user extends the session (real RS256 keys, a loopback JWKS)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest

from tests.chat.harness import FunctionEnvironment, User, dynamodb_requests
from tests.chat.test_errors import formatted_logs
from tests.support.jwks_server import JwksServer
from tests.support.tokens import (
    TokenIssuer,
    decode_unverified,
)


@pytest.fixture(scope="module")
def issuer() -> TokenIssuer:
    return TokenIssuer()


@pytest.fixture
def jwks(issuer: TokenIssuer, function_env: FunctionEnvironment):
    """The verifier's environment, as the stack sets it, and a fresh container (no verifier yet)."""
    with JwksServer(issuer.jwks()) as server:
        function_env.use_verifier(server.url)
        yield server


def expired_connection(user: User):
    """A connection whose token (from $connect) has expired."""
    user.token_expires_at = int(time.time()) - 5
    return user.connect()


def test_reauth_with_a_fresh_token_of_the_same_user_extends_the_session(chat_env, jwks, issuer):
    user = User()
    connection = expired_connection(user)
    assert connection.send("listRooms")["code"] == "TOKEN_EXPIRED"
    token = issuer.id_token(sub=user.user_id, username=user.username, lifetime=1800)
    expires_at = decode_unverified(token)[1]["exp"]

    reply = connection.send("reauth", idToken=token, requestId="ra")

    assert reply["type"] == "reauthenticated" and reply["requestId"] == "ra"
    assert reply["expiresAt"] == datetime.fromtimestamp(expires_at, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert connection.send("listRooms")["type"] == "rooms"
    assert connection.send("whoami")["expiresAt"] == reply["expiresAt"]


def test_a_reauth_seen_by_another_container_is_read_from_the_connection_record(
    chat_env, jwks, issuer, monkeypatch
):
    from chat.logic import sessions
    from chat.lru import BoundedCache

    user = User()
    connection = expired_connection(user)
    connection.send("reauth", idToken=issuer.id_token(sub=user.user_id))
    monkeypatch.setattr(sessions, "_extended_expiry", BoundedCache())  # another container: nothing in memory

    with dynamodb_requests() as sent:
        assert connection.send("listRooms")["type"] == "rooms"

    assert sent[0] == "GetItem"  # the one read an expired authorizer token costs


def test_a_token_of_another_user_is_token_invalid(chat_env, jwks, issuer):
    connection = expired_connection(User())

    reply = connection.send("reauth", idToken=issuer.id_token(sub="someone-else"))

    assert reply["code"] == "TOKEN_INVALID" and reply["action"] == "reauth" and reply["retryable"] is False
    assert connection.send("listRooms")["code"] == "TOKEN_EXPIRED"


@pytest.mark.parametrize(
    "make_token",
    [
        lambda issuer, sub: "not-a-jwt",
        lambda issuer, sub: issuer.id_token(sub=sub, lifetime=-60),
        lambda issuer, sub: issuer.id_token(sub=sub, token_use="access"),
        lambda issuer, sub: issuer.id_token(sub=sub, aud="another-client"),
        lambda issuer, sub: TokenIssuer(user_pool_id="ap-northeast-1_Other").id_token(sub=sub),
    ],
    ids=["malformed", "expired", "access-token", "wrong-audience", "other-pool"],
)
def test_a_token_that_fails_verification_is_token_invalid(chat_env, jwks, issuer, make_token):
    user = User()
    connection = expired_connection(user)

    with dynamodb_requests() as sent:
        reply = connection.send("reauth", idToken=make_token(issuer, user.user_id))

    assert reply["code"] == "TOKEN_INVALID"
    assert sent == []


def test_reauth_needs_an_id_token(chat_env, jwks):
    connection = User().connect()
    for fields in ({}, {"idToken": ""}, {"idToken": 5}):
        assert connection.send("reauth", **fields)["code"] == "BAD_REQUEST"


def test_unreachable_signing_keys_are_a_retryable_internal_error(chat_env, jwks, issuer):
    user = User()
    connection = expired_connection(user)
    jwks.go_down()

    reply = connection.send("reauth", idToken=issuer.id_token(sub=user.user_id))

    assert reply["code"] == "INTERNAL_ERROR" and reply["retryable"] is True


def test_no_token_reaches_the_logs(chat_env, jwks, issuer, capsys, caplog):
    user = User()
    connection = user.connect()
    capsys.readouterr()
    caplog.clear()
    token = issuer.id_token(sub="someone-else")

    connection.send("reauth", idToken=token)
    connection.send("reauth", idToken=token[:-4] + "AAAA")
    connection.lifecycle("connect")  # the $connect event carries a token in its query string

    output = capsys.readouterr()
    logs = formatted_logs(caplog)
    written = output.out + output.err + json.dumps(logs)
    assert any(entry.get("message") == "reauth token rejected" for entry in logs)
    for secret in (token, token.split(".")[1], token.split(".")[2], "REDACTED.ID.TOKEN"):
        assert secret not in written


def test_a_reauth_restores_delivery_in_every_room_of_the_user(chat_env, jwks, issuer, table):
    from tests.chat.test_rooms import frames_of, make_room

    alice, bob = User(), User()
    a = alice.connect()
    ended = expired_connection(bob)
    rooms = [make_room(a, bob, name=f"room {i}") for i in range(3)]
    a.send("sendMessage", roomId=rooms[0], content="missed")
    assert frames_of(chat_env, ended, "message") == []
    token = issuer.id_token(sub=bob.user_id, username=bob.username, lifetime=1800)

    with dynamodb_requests() as sent:
        assert ended.send("reauth", idToken=token)["type"] == "reauthenticated"
    for room_id in rooms:
        a.send("sendMessage", roomId=room_id, content=f"back in {room_id}")

    # the record, the user's map, the memberships, then one member item per room
    assert sent == ["UpdateItem", "UpdateItem", "Query", "UpdateItem", "UpdateItem", "UpdateItem"]
    assert [f["content"] for f in frames_of(chat_env, ended, "message")] == [f"back in {r}" for r in rooms]
    expires_at = decode_unverified(token)[1]["exp"]
    for room_id in rooms:
        member = table.get_item(Key={"PK": f"ROOM#{room_id}", "SK": f"MEMBER#{bob.user_id}"})["Item"]
        assert member["conns"][ended.connection_id]["auth"] == expires_at
