"""No log line carries message content, e-mail addresses or tokens, whatever the log level.

Dev sets `application_log_level: DEBUG`, and the Lambda runtime then sets the root logger to DEBUG:
botocore would log every request body (message content, e-mails) at that level.
"""

from __future__ import annotations

import json
import logging

from chat.observability import logger

from tests.chat.harness import User
from tests.chat.test_rooms import make_room

SECRET_CONTENT = "the-launch-code-is-4711"


class Recorder(logging.Handler):
    """Every record the functions' own logger emits, with all its fields (extras included)."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.dumps({**record.__dict__, "message": record.getMessage()}, default=str))


def test_nothing_private_is_logged_with_the_root_logger_at_debug(chat_env, caplog):
    caplog.set_level(logging.DEBUG)  # the root logger, as the Lambda runtime sets it for DEBUG
    own, level = Recorder(), logger.log_level
    logger.addHandler(own)
    logger.setLevel(logging.DEBUG)  # and the functions' own logger, as dev's DEBUG does
    alice = User(email="alice.private@example.com")
    bob = User(email="bob.private@example.com")
    try:
        a, b = alice.connect(), bob.connect()
        room_id = make_room(a, bob)
        a.send("sendMessage", roomId=room_id, content=SECRET_CONTENT, clientMessageId="private")
        b.send("getMessages", roomId=room_id)
        a.send("whoami")
    finally:
        logger.removeHandler(own)
        logger.setLevel(level)
    printed = "\n".join(own.lines)
    assert '"message": "fan-out"' in printed  # the functions' logs were captured: a leak would show
    logged = "\n".join(f"{record.name} {record.getMessage()}" for record in caplog.records)
    for private in (SECRET_CONTENT, alice.email, bob.email):
        assert private not in logged, private
        assert private not in printed, private
