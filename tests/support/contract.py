"""docs/asyncapi.yaml as test code: which frames it defines, and checks that a frame conforms to it.

Client frames are the messages of the operations the backend *receives* (keyed by their `action`
const), server frames those of its replies and of the operations it *sends* (keyed by `type`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "asyncapi.yaml"
BASE_URI = "urn:chat:asyncapi"


class ContractViolation(AssertionError):
    """A frame the document does not allow (an AssertionError, so the test that saw it fails)."""


@functools.cache
def document() -> dict[str, Any]:
    return yaml.safe_load(DOCUMENT.read_text())


def resolve(pointer: str) -> Any:
    """The node an internal `$ref` ("#/a/b") names."""
    node: Any = document()
    for part in pointer.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _pointers(refs: list[Mapping[str, str]]) -> list[str]:
    return [ref["$ref"] for ref in refs]


def _const(pointer: str, field: str) -> str:
    """The `const` a message's payload gives `field` (the action of a client frame, or its type)."""
    for part in _parts(resolve(pointer)["payload"]):
        value = part.get("properties", {}).get(field, {}).get("const")
        if value is not None:
            return value
    raise ValueError(f"{pointer}: its payload fixes no {field}")


def _parts(schema: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """A schema and every schema it includes through `$ref` and `allOf`."""
    yield schema
    if "$ref" in schema:
        yield from _parts(resolve(schema["$ref"]))
    for part in schema.get("allOf", []):
        yield from _parts(part)


def operations(action: str) -> Iterator[tuple[str, dict[str, Any]]]:
    return ((name, op) for name, op in document()["operations"].items() if op["action"] == action)


@functools.cache
def client_frames() -> dict[str, str]:
    """action -> the pointer of its message."""
    return {
        _const(pointer, "action"): pointer
        for _, op in operations("receive")
        for pointer in _pointers(op["messages"])
    }


@functools.cache
def replies() -> dict[str, frozenset[str]]:
    """action -> the types of frame that may answer it."""
    return {
        _const(_pointers(op["messages"])[0], "action"): frozenset(
            _const(pointer, "type") for pointer in _pointers(op["reply"]["messages"])
        )
        for _, op in operations("receive")
    }


@functools.cache
def server_frames() -> dict[str, str]:
    """type -> the pointer of its message (replies and events alike)."""
    pointers = [pointer for _, op in operations("send") for pointer in _pointers(op["messages"])]
    pointers += [pointer for _, op in operations("receive") for pointer in _pointers(op["reply"]["messages"])]
    return {_const(pointer, "type"): pointer for pointer in pointers}


@functools.cache
def _registry() -> Registry:
    return Registry().with_resource(BASE_URI, Resource(contents=document(), specification=DRAFT7))


@functools.cache
def validator(pointer: str) -> Draft7Validator:
    """A validator of the payload of the message at `pointer`, its `$ref`s resolved in the document."""
    return Draft7Validator({"$ref": f"{BASE_URI}{pointer}/payload"}, registry=_registry())


def _check(frame: Any, pointer: str, what: str) -> None:
    errors = sorted(validator(pointer).iter_errors(frame), key=lambda error: list(error.absolute_path))
    if errors:
        details = "; ".join(
            f"{'/'.join(map(str, e.absolute_path)) or '(frame)'}: {e.message}" for e in errors
        )
        raise ContractViolation(
            f"{what} does not match {pointer} in docs/asyncapi.yaml: {details}\n{frame!r}"
        )


def check_client_frame(frame: Any) -> None:
    action = frame.get("action") if isinstance(frame, dict) else None
    if action not in client_frames():
        raise ContractViolation(f"a frame was sent with an action docs/asyncapi.yaml lacks: {frame!r}")
    _check(frame, client_frames()[action], f"a sent {action} frame")


def check_server_frame(frame: Any) -> None:
    kind = frame.get("type") if isinstance(frame, dict) else None
    if kind not in server_frames():
        raise ContractViolation(f"the server sent a frame type docs/asyncapi.yaml lacks: {frame!r}")
    _check(frame, server_frames()[kind], f"a received {kind} frame")


def check_reply(action: str, frame: dict[str, Any]) -> None:
    """`frame` answered a frame naming `action`: it is one of that action's replies (any action may
    be refused; a frame naming no known action gets an error)."""
    allowed = replies().get(action, frozenset({"error"}))
    if frame.get("type") not in allowed:
        raise ContractViolation(
            f"{action} was answered by {frame.get('type')!r}, not one of {sorted(allowed)}"
        )
