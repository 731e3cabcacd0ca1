"""$connect: identity source, the authorizer's answers, and $connect's own status."""

from __future__ import annotations

import asyncio

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.emulator.support import management, probe, recorded, recorded_kind, url
from tests.support.local_stack import LocalStackProcess

pytestmark = pytest.mark.slow


def refused_status(target: str) -> int:
    async def attempt() -> int:
        with pytest.raises(InvalidStatus) as refused:
            async with connect(target):
                pass
        return refused.value.response.status_code

    return asyncio.run(attempt())


def test_missing_identity_source_is_401_without_calling_the_authorizer(stack: LocalStackProcess) -> None:
    # Given a probe the fixture authorizer records whenever it is called
    missing, present = probe(), probe()
    # When one handshake has no idToken and another has one
    assert refused_status(url(stack, None, probe=missing)) == 401
    assert refused_status(url(stack, "", probe=missing)) == 401
    assert refused_status(url(stack, "deny", probe=present)) == 403
    # Then only the second reached the authorizer
    assert "authorizer" in recorded(stack, f"probe#{present}")
    assert recorded(stack, f"probe#{missing}", wait=1) == {}


@pytest.mark.parametrize(
    ("token", "status"),
    [
        ("unauthorized", 401),  # raise Exception("Unauthorized")
        ("deny", 403),
        ("malformed", 403),  # no policyDocument
        ("other-route", 403),  # Allow, but for another route's ARN
        ("error", 500),  # any other exception
        ("slow", 500),  # outlives the authorizer's 2 s timeout
        ("nested-context", 500),  # context values must be primitives
    ],
)
def test_authorizer_answers_map_to_api_gateway_statuses(
    stack: LocalStackProcess, token: str, status: int
) -> None:
    key = probe()
    assert refused_status(url(stack, token, probe=key)) == status
    # A refused handshake never reaches $connect.
    assert set(recorded(stack, f"probe#{key}", wait=0.5)) == {"authorizer"}


def test_wrong_stage_is_403(stack: LocalStackProcess) -> None:
    assert refused_status(url(stack).replace("/test?", "/prod?")) == 403


@pytest.mark.parametrize("answer", ["403", "500", "302"])
def test_connect_returning_non_2xx_refuses_and_leaves_no_connection(
    stack: LocalStackProcess, answer: str
) -> None:
    key = probe()
    assert refused_status(url(stack, "allow", probe=key, connect=answer)) == int(answer)
    connection_id = recorded_kind(stack, f"probe#{key}", "$connect")["requestContext"]["connectionId"]
    api = management(stack)
    with pytest.raises(api.exceptions.GoneException):
        api.get_connection(ConnectionId=connection_id)
    # and no $disconnect follows a refused handshake
    assert "$disconnect" not in recorded(stack, connection_id, wait=1)


def test_connect_integration_error_is_500(stack: LocalStackProcess) -> None:
    assert refused_status(url(stack, "allow", connect="raise")) == 500


def test_allow_context_is_stringified_and_reaches_connect(stack: LocalStackProcess) -> None:
    key = probe()

    async def open_and_close() -> None:
        async with connect(url(stack, "allow", probe=key), user_agent_header="conformance/1"):
            pass

    asyncio.run(open_and_close())
    event = recorded_kind(stack, f"probe#{key}", "$connect")
    context = event["requestContext"]
    assert context["authorizer"] == {
        "userId": "user-1",
        "count": "3",
        "admin": "true",
        "ratio": "1.5",
        "principalId": "fixture-principal",
    }
    assert context["routeKey"] == "$connect"
    assert context["eventType"] == "CONNECT"
    assert context["stage"] == "test"
    assert context["identity"] == {"sourceIp": "127.0.0.1", "userAgent": "conformance/1"}
    for field in ("connectionId", "requestId", "domainName", "apiId", "connectedAt", "requestTimeEpoch"):
        assert context[field], field
    assert event["queryStringParameters"] == {"idToken": "allow", "probe": key}
    assert event["headers"]["User-Agent"] == "conformance/1"
    assert event["isBase64Encoded"] is False
    authorizer_event = recorded_kind(stack, f"probe#{key}", "authorizer")
    assert authorizer_event["type"] == "REQUEST"
    assert authorizer_event["methodArn"].endswith(f"{context['apiId']}/test/$connect")


def test_a_client_gone_before_connect_returns_gets_its_disconnect(stack: LocalStackProcess) -> None:
    # Given a $connect that takes 1.5 s and a client that gives up on the handshake after 0.5 s
    key = probe()

    async def abandon() -> None:
        with pytest.raises(TimeoutError):
            async with connect(url(stack, "allow", probe=key, connect_sleep="1.5"), open_timeout=0.5):
                pass

    asyncio.run(abandon())
    # Then $connect (which accepted it) is followed by a $disconnect, as for a dropped connection,
    # so whatever $connect stored is removed; and the connection does not exist
    connection_id = recorded_kind(stack, f"probe#{key}", "$connect")["requestContext"]["connectionId"]
    context = recorded_kind(stack, connection_id, "$disconnect")["requestContext"]
    assert (context["disconnectStatusCode"], context["disconnectReason"]) == (
        1006,
        "Connection was closed abnormally",
    )
    api = management(stack)
    with pytest.raises(api.exceptions.GoneException):
        api.get_connection(ConnectionId=connection_id)
