"""Refused handshakes: missing, forged, expired, wrong-audience and access tokens leave nothing behind."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import quote

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.e2e.support import ChatClient, cognito, new_user, reissued, scan_count, sign_in
from tests.support.local_stack import LocalStackProcess

pytestmark = pytest.mark.slow


def handshake_status(outputs: dict[str, str], query: str) -> int:
    async def attempt() -> int:
        with pytest.raises(InvalidStatus) as refused:
            async with connect(outputs["WebSocketUrl"] + query):
                pass
        return refused.value.response.status_code

    return asyncio.run(attempt())


def test_no_token_is_ever_logged(chat_stack: LocalStackProcess) -> None:
    """The whole stack's log (emulator and every function) after a session of valid and refused tokens."""
    outputs = chat_stack.outputs
    user = new_user(outputs)

    async def use(token: str) -> None:
        client = await ChatClient.open(outputs, token)
        await client.request("whoami")
        await client.request("reauth", idToken=token)
        await client.close()

    asyncio.run(use(user.id_token))
    forged = reissued(user.id_token, forged=True)
    assert handshake_status(outputs, "?idToken=" + quote(forged)) in {401, 403}
    log = chat_stack.log_path.read_text()
    for token in (user.id_token, forged, user.access_token):
        signature = token.rsplit(".", 1)[1]
        assert signature not in log


def test_a_valid_id_token_connects(outputs: dict[str, str]) -> None:
    user = new_user(outputs)

    async def scenario() -> dict[str, str]:
        client = await ChatClient.open(outputs, user.id_token)
        identity = await client.request("whoami")
        await client.close()
        return identity

    identity = asyncio.run(scenario())
    assert identity["type"] == "identity"
    assert identity["userId"] == user.user_id
    assert identity["email"] == user.username


def test_refused_handshakes_write_nothing(outputs: dict[str, str]) -> None:
    # Given a user with genuine tokens, and tokens derived from them
    user = new_user(outputs)
    other_client = cognito(outputs).create_user_pool_client(
        UserPoolId=outputs["UserPoolId"],
        ClientName="another-app",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"],
    )["UserPoolClient"]["ClientId"]
    now = int(time.time())
    wrong_audience = sign_in(outputs, user.username, client_id=other_client)["IdToken"]
    refused = {
        "missing": "",
        "empty": "?idToken=",
        "garbage": "?idToken=not-a-jwt",
        "forged": "?idToken=" + quote(reissued(user.id_token, forged=True)),
        "expired": "?idToken="
        + quote(reissued(user.id_token, iat=now - 7200, auth_time=now - 7200, exp=now - 3600)),
        "wrong audience": "?idToken=" + quote(wrong_audience),
        "wrong issuer": "?idToken=" + quote(reissued(user.id_token, iss="https://example.com/evil")),
        "access token": "?idToken=" + quote(user.access_token),
    }
    before = scan_count(outputs)
    # When each is presented
    statuses = {name: handshake_status(outputs, query) for name, query in refused.items()}
    # Then each is refused with 401 (missing) or 401/403, and the table is untouched
    assert statuses["missing"] == 401
    assert statuses["empty"] == 401
    assert all(status in {401, 403} for status in statuses.values()), statuses
    assert scan_count(outputs) == before
