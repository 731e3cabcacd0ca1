"""Client frames: decoding the body and validating each action's fields into typed requests.

Validation happens here, before any logic runs, so a rejected frame never reaches DynamoDB.
"""

from __future__ import annotations

import base64
import binascii
import json
import unicodedata
from dataclasses import dataclass
from typing import Any

import route_keys
from chat.models import cursors
from chat.models.errors import BadRequest, MessageTooLong

ACTIONS: tuple[str, ...] = route_keys.ACTIONS

MAX_FRAME_BYTES = 32 * 1024
MAX_REQUEST_ID_CHARS = 64
MAX_ROOM_ID_CHARS = 64
MAX_USER_ID_CHARS = 128
MAX_ROOM_NAME_CHARS = 100
# Unicode's bidirectional embedding, override and isolate controls: a name holding one can make text
# shown after it read backwards (U+202E), so names refuse them (the marks U+200E/F stay allowed).
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
MAX_CLIENT_MESSAGE_ID_CHARS = 64
MAX_ID_TOKEN_CHARS = 16 * 1024
# createRoom writes the room and one membership per member in one transaction (100 items at most):
# the room item + the creator + 98 others.
MAX_INITIAL_MEMBER_IDS = 98
# A message names at most this many people (each costs one write: docs/DATA_MODEL.md).
MAX_MENTIONS = 20
# Sequence numbers are stored in 15 digits (dal/keys.py); `after + 1` must still fit.
MAX_SEQ = 10**15 - 2
DEFAULT_PAGE = 50
MAX_PAGE = 100


@dataclass(frozen=True)
class ClientFrame:
    """A decoded client frame: its fields and the requestId to echo (when one was given and valid)."""

    fields: dict[str, Any]
    request_id: str | None

    @classmethod
    def decode(cls, body: str | bytes | None, *, base64_encoded: bool = False) -> ClientFrame:
        raw = _body_bytes(body, base64_encoded)
        if len(raw) > MAX_FRAME_BYTES:
            raise BadRequest(f"a frame is at most {MAX_FRAME_BYTES} bytes")
        try:
            value = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
        except (ValueError, RecursionError) as exc:
            raise BadRequest("the frame is not valid JSON") from exc
        if not isinstance(value, dict):
            raise BadRequest("the frame must be a JSON object")
        request_id = value.get("requestId")
        if request_id is not None:
            _check_string("requestId", request_id, 1, MAX_REQUEST_ID_CHARS)
        return cls(fields=value, request_id=request_id)


@dataclass(frozen=True)
class CreateRoom:
    name: str
    member_ids: tuple[str, ...]
    open: bool
    client_room_id: str | None = None  # makes a retry return the same room (24 hours)


@dataclass(frozen=True)
class RoomRequest:
    """joinRoom, leaveRoom and typing: a room id and nothing else."""

    room_id: str


@dataclass(frozen=True)
class SendMessage:
    room_id: str
    content: str
    client_message_id: str | None
    reply_to: int | None = None  # the seq of the message it answers, in the same room
    mentions: tuple[str, ...] = ()  # distinct user ids, in the order given


@dataclass(frozen=True)
class EditMessage:
    room_id: str
    seq: int
    content: str


@dataclass(frozen=True)
class MessageRequest:
    """deleteMessage: a stored message, named by its room and seq."""

    room_id: str
    seq: int


@dataclass(frozen=True)
class GetMessages:
    room_id: str
    after: int | None
    before: int | None
    limit: int


@dataclass(frozen=True)
class GetMembers:
    room_id: str
    cursor: str | None
    limit: int


@dataclass(frozen=True)
class ListRooms:
    after: str | None  # the room id the cursor names: the page starts after it
    limit: int


@dataclass(frozen=True)
class MarkRead:
    room_id: str
    seq: int


@dataclass(frozen=True)
class Reauth:
    id_token: str


def action_name(frame: ClientFrame) -> str:
    """The frame's `action` (the `$default` route has to look at it to say what went wrong)."""
    action = frame.fields.get("action")
    if action is None:
        raise BadRequest("action is required")
    if not isinstance(action, str):
        raise BadRequest("action must be a string")
    return action


def create_room(frame: ClientFrame) -> CreateRoom:
    fields = frame.fields
    name = _string(fields, "name", MAX_ROOM_NAME_CHARS)
    if not any(_visible(char) for char in name):
        raise BadRequest("name needs a visible character")
    if BIDI_CONTROLS.intersection(name):
        raise BadRequest("name must not hold bidirectional embedding, override or isolate controls")
    unique = _user_ids(fields, "memberIds")
    if len(unique) > MAX_INITIAL_MEMBER_IDS + 1:  # the creator may list itself too
        raise BadRequest(f"memberIds holds at most {MAX_INITIAL_MEMBER_IDS} user ids besides yours")
    is_open = fields.get("open", False)
    if not isinstance(is_open, bool):
        raise BadRequest("open must be a boolean")
    client_room_id = _optional_string(fields, "clientRoomId", MAX_CLIENT_MESSAGE_ID_CHARS)
    return CreateRoom(name=name, member_ids=unique, open=is_open, client_room_id=client_room_id)


def room_request(frame: ClientFrame) -> RoomRequest:
    return RoomRequest(room_id=_room_id(frame.fields))


def send_message(frame: ClientFrame, max_length: int) -> SendMessage:
    fields = frame.fields
    room_id = _room_id(fields)
    content = _content(fields, max_length)
    client_message_id = _optional_string(fields, "clientMessageId", MAX_CLIENT_MESSAGE_ID_CHARS)
    return SendMessage(
        room_id=room_id,
        content=content,
        client_message_id=client_message_id,
        reply_to=_optional_int(fields, "replyTo", 1, MAX_SEQ),
        mentions=_mentions(fields),
    )


def edit_message(frame: ClientFrame, max_length: int) -> EditMessage:
    fields = frame.fields
    return EditMessage(room_id=_room_id(fields), seq=_seq(fields), content=_content(fields, max_length))


def message_request(frame: ClientFrame) -> MessageRequest:
    return MessageRequest(room_id=_room_id(frame.fields), seq=_seq(frame.fields))


def get_messages(frame: ClientFrame) -> GetMessages:
    fields = frame.fields
    room_id = _room_id(fields)
    after = _optional_int(fields, "after", 0, MAX_SEQ)
    before = _optional_int(fields, "before", 1, MAX_SEQ)
    limit = _optional_int(fields, "limit", 1, MAX_PAGE)
    if after is not None and before is not None and before <= after + 1:
        raise BadRequest("before must be greater than after + 1")
    return GetMessages(room_id=room_id, after=after, before=before, limit=limit or DEFAULT_PAGE)


def get_members(frame: ClientFrame) -> GetMembers:
    fields = frame.fields
    cursor = _optional_string(fields, "cursor", MAX_USER_ID_CHARS)
    limit = _optional_int(fields, "limit", 1, MAX_PAGE)
    return GetMembers(room_id=_room_id(fields), cursor=cursor, limit=limit or MAX_PAGE)


def list_rooms(frame: ClientFrame) -> ListRooms:
    fields = frame.fields
    cursor = _optional_string(fields, "cursor", cursors.MAX_CURSOR_CHARS)
    limit = _optional_int(fields, "limit", 1, MAX_PAGE)
    after = cursors.room_after(cursor) if cursor is not None else None
    return ListRooms(after=after, limit=limit or DEFAULT_PAGE)


def mark_read(frame: ClientFrame) -> MarkRead:
    seq = _optional_int(frame.fields, "seq", 0, MAX_SEQ)
    if seq is None:
        raise BadRequest("seq is required")
    return MarkRead(room_id=_room_id(frame.fields), seq=seq)


def reauth(frame: ClientFrame) -> Reauth:
    return Reauth(id_token=_string(frame.fields, "idToken", MAX_ID_TOKEN_CHARS))


def _visible(char: str) -> bool:
    """Not a separator (spaces), a control or format character (zero-width ones), or a lone mark."""
    category = unicodedata.category(char)
    return category[0] not in "ZC" and category not in ("Mn", "Me")


def _body_bytes(body: str | bytes | None, base64_encoded: bool) -> bytes:
    if body is None:
        raise BadRequest("the frame is empty")
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else bytes(body)
    if base64_encoded:
        try:
            raw = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise BadRequest("the frame is not valid base64") from exc
    return raw


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _room_id(fields: dict[str, Any]) -> str:
    return _string(fields, "roomId", MAX_ROOM_ID_CHARS)


def _user_ids(fields: dict[str, Any], name: str) -> tuple[str, ...]:
    """An optional array of user ids, duplicates dropped, in the order given."""
    values = fields.get(name, [])
    if not isinstance(values, list):
        raise BadRequest(f"{name} must be an array of user ids")
    for user_id in values:
        _check_string(f"{name}[]", user_id, 1, MAX_USER_ID_CHARS)
    return tuple(dict.fromkeys(values))


def _mentions(fields: dict[str, Any]) -> tuple[str, ...]:
    unique = _user_ids(fields, "mentions")
    if len(unique) > MAX_MENTIONS:
        raise BadRequest(f"mentions holds at most {MAX_MENTIONS} distinct user ids")
    return unique


def _seq(fields: dict[str, Any]) -> int:
    """A stored message's seq (required)."""
    seq = _optional_int(fields, "seq", 1, MAX_SEQ)
    if seq is None:
        raise BadRequest("seq is required")
    return seq


def _content(fields: dict[str, Any], max_length: int) -> str:
    content = fields.get("content")
    if not isinstance(content, str):
        raise BadRequest("content is required and must be a string")
    if len(content) > max_length:
        raise MessageTooLong(f"content is at most {max_length} characters")
    return _check_string("content", content, 1, max_length)


def _string(fields: dict[str, Any], name: str, max_chars: int) -> str:
    value = fields.get(name)
    if value is None:
        raise BadRequest(f"{name} is required")
    return _check_string(name, value, 1, max_chars)


def _optional_string(fields: dict[str, Any], name: str, max_chars: int) -> str | None:
    value = fields.get(name)
    if value is not None:
        _check_string(name, value, 1, max_chars)
    return value


def _check_string(name: str, value: Any, min_chars: int, max_chars: int) -> str:
    if not isinstance(value, str):
        raise BadRequest(f"{name} must be a string")
    if not min_chars <= len(value) <= max_chars:
        raise BadRequest(f"{name} must be {min_chars} to {max_chars} characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise BadRequest(f"{name} is not valid Unicode text") from exc
    return value


def _optional_int(fields: dict[str, Any], name: str, minimum: int, maximum: int) -> int | None:
    value = fields.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(f"{name} must be an integer")
    if not minimum <= value <= maximum:
        raise BadRequest(f"{name} must be between {minimum} and {maximum}")
    return value
