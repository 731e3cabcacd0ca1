"""docs/asyncapi.yaml: a valid AsyncAPI 3.0 document, and the same actions and errors as the code."""

from __future__ import annotations

import ast
import copy
import inspect
import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from chat.models import frames, requests
from chat.models.errors import ChatError
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

import route_keys
from tests.support import contract

# The AsyncAPI project's published JSON Schema of 3.0.0 documents (npm @asyncapi/specs, pinned in
# package.json; `make test` installs node_modules first).
SPEC = Path(__file__).resolve().parents[2] / "node_modules" / "@asyncapi" / "specs" / "schemas" / "3.0.0.json"


@pytest.fixture(scope="module")
def asyncapi_validator() -> Draft7Validator:
    assert SPEC.exists(), f"{SPEC} is missing: run `make bootstrap` (npm ci)"
    schema = json.loads(SPEC.read_text())
    registry = (
        Registry().with_resource(schema["$id"], Resource(contents=schema, specification=DRAFT7)).crawl()
    )
    return Draft7Validator(schema, registry=registry)


def errors_of(validator: Draft7Validator, document: dict[str, Any]) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


def test_the_document_is_a_valid_asyncapi_3_document(asyncapi_validator: Draft7Validator) -> None:
    assert contract.document()["asyncapi"] == "3.0.0"
    assert errors_of(asyncapi_validator, contract.document()) == []


@pytest.mark.parametrize(
    "breakage",
    [
        lambda d: d["info"].pop("version"),
        lambda d: d["operations"]["createRoom"].update(action="publish"),
        lambda d: d["channels"]["chat"]["messages"]["action.ping"].update(payload="not a schema"),
        lambda d: d["servers"]["aws"].update(protocol=7),
    ],
    ids=["no info.version", "an AsyncAPI 2 verb", "a payload that is no schema", "a numeric protocol"],
)
def test_the_asyncapi_schema_refuses_a_broken_copy(
    asyncapi_validator: Draft7Validator, breakage: Any
) -> None:
    broken = copy.deepcopy(contract.document())
    breakage(broken)
    assert errors_of(asyncapi_validator, broken) != []


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


def test_every_reference_resolves_inside_the_document() -> None:
    pointers = set(refs(contract.document()))
    assert pointers, "the document uses references"
    for pointer in sorted(pointers):
        assert pointer.startswith("#/"), f"{pointer}: only internal references"
        contract.resolve(pointer)  # raises KeyError when it names nothing


def test_operations_use_only_their_channels_messages() -> None:
    """AsyncAPI 3: an operation's (and its reply's) messages must be messages of its channel."""
    for name, operation in contract.document()["operations"].items():
        for part in (operation, operation.get("reply")):
            if part is None:
                continue
            channel = part["channel"]["$ref"]
            for message in part["messages"]:
                assert message["$ref"].startswith(f"{channel}/messages/"), f"{name}: {message['$ref']}"


def test_the_routed_actions_are_exactly_the_documents_actions() -> None:
    """route_keys names what the stack routes and the handlers dispatch (tests/chat holds them to it)."""
    routed = set(route_keys.DIRECT_ACTIONS) | set(route_keys.BROADCAST_ROUTES)
    documented = set(contract.client_frames())
    assert routed - documented == set(), "actions the API routes and docs/asyncapi.yaml lacks"
    assert documented - routed == set(), "actions docs/asyncapi.yaml has and no route serves"
    assert set(requests.ACTIONS) == documented, "requests.ACTIONS (listed in UNKNOWN_ACTION errors)"


def frame_types_built_by(module: ModuleType) -> set[str]:
    """The `type` of every dict literal in the module's source: the server frames it builds."""
    tree = ast.parse(inspect.getsource(module))
    return {
        value.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Dict)
        for key, value in zip(node.keys, node.values, strict=True)
        if isinstance(key, ast.Constant) and key.value == "type" and isinstance(value, ast.Constant)
    }


def test_the_server_frames_are_the_frames_the_code_builds() -> None:
    """chat.models.frames builds every server frame (PROTOCOL.md; nothing else in lambdas/ does)."""
    assert frame_types_built_by(frames) == set(contract.server_frames())


def test_every_action_may_be_refused_and_every_reply_is_a_server_frame() -> None:
    for action, types in contract.replies().items():
        assert "error" in types, action
        assert types <= set(contract.server_frames()), action


def error_codes(cls: type[ChatError]) -> set[str]:
    return {cls.code}.union(*(error_codes(sub) for sub in cls.__subclasses__()))


def test_the_documents_error_codes_are_the_codes_the_code_raises() -> None:
    documented = set(contract.resolve("#/components/schemas/ErrorCode")["enum"])
    assert documented == error_codes(ChatError)


@pytest.mark.parametrize(
    ("frame", "problem"),
    [
        ({"action": "sendMessage", "roomId": "r"}, "'content' is a required property"),
        ({"action": "sendMessage", "roomId": "r", "content": "x" * 5001}, "is too long"),
        ({"action": "getMessages", "roomId": "r", "limit": 101}, "maximum"),
        ({"action": "markRead", "roomId": "r", "seq": "1"}, "is not of type 'integer'"),
        ({"action": "joinRoom", "roomId": "r", "requestId": ""}, "should be non-empty"),
        ({"action": "shout"}, "lacks"),
    ],
)
def test_a_client_frame_the_protocol_refuses_does_not_validate(frame: dict[str, Any], problem: str) -> None:
    with pytest.raises(contract.ContractViolation, match=problem):
        contract.check_client_frame(frame)


@pytest.mark.parametrize(
    ("frame", "problem"),
    [
        ({"type": "pong", "extra": True}, "Additional properties"),
        (
            {
                "type": "ack",
                "roomId": "r",
                "messageId": "m",
                "seq": 0,
                "createdAt": "2026-01-01T00:00:00.000Z",
            },
            "minimum",
        ),
        ({"type": "error", "code": "NOPE", "message": "m", "retryable": False}, "is not one of"),
        ({"type": "reauthenticated", "expiresAt": "2026-01-01 00:00:00"}, "does not match"),
        ({"type": "presents"}, "lacks"),
    ],
)
def test_a_server_frame_off_the_contract_does_not_validate(frame: dict[str, Any], problem: str) -> None:
    with pytest.raises(contract.ContractViolation, match=problem):
        contract.check_server_frame(frame)


def test_frames_on_the_contract_validate() -> None:
    message = {
        "roomId": "r-1",
        "messageId": "m-1",
        "seq": 1,
        "senderId": "u-1",
        "content": "hi",
        "createdAt": "2026-11-23T10:15:30.123Z",
        "version": 1,
    }
    edited = {**message, "version": 2, "editedAt": "2026-11-23T10:16:00.000Z"}
    tombstone = {
        **{k: v for k, v in message.items() if k not in ("content", "version")},
        "deleted": True,
        "deletedAt": "2026-11-23T10:17:00.000Z",
        "deletedBy": "u-1",
    }
    reply = {
        **message,
        "seq": 2,
        "messageId": "m-2",
        "replyTo": {"seq": 1, "messageId": "m-1", "senderId": "u-1", "displayName": "ann", "excerpt": "hi"},
        "mentions": ["u-1"],
    }
    orphan = {**reply, "replyTo": {"seq": 1, "messageId": "m-1", "deleted": True}}
    contract.check_server_frame(
        {"type": "messages", "roomId": "r-1", "items": [reply, orphan], "hasMore": False}
    )
    with pytest.raises(contract.ContractViolation):
        contract.check_server_frame(
            {
                "type": "messages",
                "roomId": "r-1",
                "items": [{**tombstone, "mentions": ["u-1"]}],
                "hasMore": False,
            }
        )
    contract.check_client_frame(
        {"action": "sendMessage", "roomId": "r-1", "content": "yes", "replyTo": 1, "mentions": ["u-1"]}
    )
    contract.check_client_frame({"action": "editMessage", "roomId": "r-1", "seq": 1, "content": "fixed"})
    contract.check_client_frame({"action": "deleteMessage", "roomId": "r-1", "seq": 1})
    contract.check_server_frame(
        {"type": "messages", "roomId": "r-1", "items": [edited, tombstone], "hasMore": False}
    )
    for half_deleted in ({**tombstone, "content": "kept"}, {**message, "deleted": True}):
        with pytest.raises(contract.ContractViolation):
            contract.check_server_frame(
                {"type": "messages", "roomId": "r-1", "items": [half_deleted], "hasMore": False}
            )
    contract.check_client_frame({"action": "createRoom", "name": "team", "memberIds": ["u-2"], "open": True})
    contract.check_client_frame({"action": "ping", "requestId": "42", "unknown": "ignored"})
    contract.check_server_frame({"type": "message", **message, "clientMessageId": "c-1"})
    contract.check_server_frame({"type": "messages", "roomId": "r-1", "items": [message], "hasMore": False})
    contract.check_server_frame(
        {
            "type": "rooms",
            "items": [
                {
                    "roomId": "r-1",
                    "name": "a",
                    "open": False,
                    "lastMessage": message,
                    "lastReadSeq": 0,
                    "unreadCount": 1,
                    "mentionCount": 1,
                    "memberCount": 2,
                    "onlineCount": 1,
                },
                {
                    "roomId": "r-2",
                    "name": "b",
                    "open": True,
                    "lastMessage": None,
                    "lastReadSeq": 0,
                    "unreadCount": 0,
                    "mentionCount": 0,
                    "memberCount": 40,
                    "onlineCount": 0,
                },
            ],
            "cursor": "eyJhZnRlciI6InItMiJ9",
        }
    )
    contract.check_server_frame({"type": "rooms", "items": [], "cursor": None})
    contract.check_client_frame({"action": "listRooms", "cursor": "eyJhZnRlciI6InItMiJ9", "limit": 100})
    for bad in ({"cursor": ""}, {"limit": 101}):
        with pytest.raises(contract.ContractViolation):
            contract.check_client_frame({"action": "listRooms", **bad})
    contract.check_reply("sendMessage", {"type": "ack"})
    with pytest.raises(contract.ContractViolation):
        contract.check_reply("sendMessage", {"type": "room"})
