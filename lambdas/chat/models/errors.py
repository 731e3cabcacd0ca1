"""The protocol's error codes as exception types: logic raises them, the handler turns them into frames."""

from __future__ import annotations


class ChatError(Exception):
    """An error the client is told about, with a code from the protocol's table."""

    code = "INTERNAL_ERROR"
    retryable = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(ChatError):
    code = "BAD_REQUEST"


class UnknownAction(ChatError):
    code = "UNKNOWN_ACTION"


class MessageTooLong(ChatError):
    code = "MESSAGE_TOO_LONG"


class RoomNotFound(ChatError):
    code = "ROOM_NOT_FOUND"

    def __init__(self, room_id: str) -> None:
        super().__init__(f"no room with roomId {room_id!r}")


class NotAMember(ChatError):
    code = "NOT_A_MEMBER"

    def __init__(self, room_id: str) -> None:
        super().__init__(f"you are not a member of room {room_id!r}")


class MessageNotFound(ChatError):
    """No message with that seq in the room, or it is deleted: not retryable."""

    code = "MESSAGE_NOT_FOUND"

    def __init__(self, room_id: str, seq: int) -> None:
        super().__init__(f"no message with seq {seq} in room {room_id!r} (or it was deleted)")


class Forbidden(ChatError):
    code = "FORBIDDEN"


class VerificationRequired(ChatError):
    code = "VERIFICATION_REQUIRED"

    def __init__(self) -> None:
        super().__init__("sending requires an approved sender profile")


class RateLimited(ChatError):
    code = "RATE_LIMITED"
    retryable = True

    def __init__(self, action: str) -> None:
        super().__init__(f"too many {action} frames on this connection: slow down and retry")


class LimitExceeded(ChatError):
    """A cap that waiting does not lift (the rooms one user may be in): not retryable."""

    code = "LIMIT_EXCEEDED"


class TokenExpired(ChatError):
    code = "TOKEN_EXPIRED"

    def __init__(self) -> None:
        super().__init__("your token has expired: send reauth with a fresh ID token, or reconnect")


class TokenInvalid(ChatError):
    code = "TOKEN_INVALID"


class InternalError(ChatError):
    code = "INTERNAL_ERROR"
    retryable = True

    def __init__(self) -> None:
        super().__init__("something went wrong on our side: retry")
