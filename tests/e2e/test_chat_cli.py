"""The chat client for people, driven through its stdin/stdout by two "people" at once."""

from __future__ import annotations

import asyncio
import os
import queue
import re
import subprocess
import sys
import threading
import time

import pytest

from local_stack.demo import DEMO_PASSWORD
from tests.e2e.support import PASSWORD, new_user, rooms_with_long_last_messages
from tests.support.local_stack import REPOSITORY, LocalStackProcess

pytestmark = pytest.mark.slow


class Person:
    """One `python -m chat_cli` process: type lines, wait for lines on its screen."""

    def __init__(self, stack: LocalStackProcess, username: str, password: str = DEMO_PASSWORD) -> None:
        outputs_file = stack.state_dir / "outputs.json"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "chat_cli", "--outputs", str(outputs_file), "--username", username],
            cwd=REPOSITORY,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "CHAT_PASSWORD": password},
        )
        self.screen: list[str] = []
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line.rstrip("\n"))

    def type(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def expect(self, pattern: str, timeout: float = 20.0) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        for line in self.screen:
            if match := re.search(pattern, line):
                self.screen.remove(line)
                return match
        while time.monotonic() < deadline:
            try:
                line = self._lines.get(timeout=deadline - time.monotonic())
            except queue.Empty:
                break
            if match := re.search(pattern, line):
                return match
            self.screen.append(line)
        raise AssertionError(f"{pattern!r} never appeared; the screen:\n" + "\n".join(self.screen))

    def quit(self) -> int:
        self.type("/quit")
        try:
            return self.process.wait(timeout=20)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()


def test_two_people_chat_with_typing_receipts_edits_deletes_replies(chat_stack: LocalStackProcess) -> None:
    alice = Person(chat_stack, "alice@example.com")
    bob = Person(chat_stack, "bob@example.com")
    try:
        alice.expect(r"you are alice@example.com")
        bob.expect(r"you are bob@example.com")
        alice.type("/create cli-room --open")
        room_id = alice.expect(r"room #cli-room \(open\) ([0-9a-f-]{8,})").group(1)
        bob.type(f"/join {room_id}")
        bob.expect(r"joined #")
        alice.expect(r"joined #cli-room")
        bob.type("/typing")
        alice.expect(r"is typing in #cli-room")
        bob.type("hi alice")
        alice.expect(r"#cli-room #1 \w+: hi alice")
        bob.expect(r"\(sent #1\)")
        bob.expect(r"✓ \w+ read #cli-room up to #1")  # alice's client marked it read
        alice.type("hello bob")
        bob.expect(r"#cli-room #2 \w+: hello bob")
        edit_and_delete(alice, bob, room_id)
        reply_and_mention(alice, bob, room_id)
        alice.type("/history")
        alice.type("/rooms")
        alice.expect(r"#cli-room " + room_id)
        assert alice.quit() == 0
        assert bob.quit() == 0
    finally:
        for person in (alice, bob):
            if person.process.poll() is None:
                person.process.kill()
                person.process.wait()


def edit_and_delete(alice: Person, bob: Person, room_id: str) -> None:
    """Bob edits, then deletes his #1 (alice sees both); only alice may change her #2."""
    bob.type("/edit 1 hi again alice")
    bob.expect(r"\(edited #1\)")
    alice.expect(r"#cli-room #1 edited by \w+: hi again alice")
    bob.type("/delete 2")
    bob.expect(r"! FORBIDDEN: ")
    bob.type("/delete 1")
    bob.expect(r"\(deleted #1\)|#1 deleted by you")  # the reply, or the room's notice if it came first
    alice.expect(r"#cli-room #1 deleted by \w+")
    bob.type("/edit 1 never mind")
    bob.expect(r"! MESSAGE_NOT_FOUND: ")
    alice.type("/edit 2 hello again bob")
    bob.expect(r"#cli-room #2 edited by \w+: hello again bob")
    bob.type(f"/room {room_id}")  # the history shows each message as it is now
    bob.expect(r"#cli-room #1 \w+: \(message deleted\)")
    bob.expect(r"#cli-room #2 \w+: hello again bob  \(edited\)")


def reply_and_mention(alice: Person, bob: Person, room_id: str) -> None:
    """Bob replies to alice's (edited) #2 naming her: she sees the quote and the mention mark. A reply
    to the deleted #1 is refused; once #2 is deleted too, the history quotes it as deleted."""
    bob.type("/reply 2 @alice thanks")
    bob.expect(r"\(sent #3\)")
    alice.expect(r'^@ \[[\d:]+\] #cli-room #3 \w+: ↪ #2 you: "hello again bob" @alice thanks$')
    bob.type("/reply 1 too late")
    bob.expect(r"! MESSAGE_NOT_FOUND: ")
    alice.type("/delete 2")
    bob.expect(r"#cli-room #2 deleted by \w+")
    bob.type(f"/room {room_id}")
    bob.expect(r"^\[[\d:]+\] #cli-room #3 you: ↪ #2 \(deleted\) @alice thanks$")


def test_the_room_listing_shows_every_page(chat_stack: LocalStackProcess) -> None:
    """12 rooms whose last messages are 5,000 emoji do not fit one 128 KB frame: the client pages."""
    carol, dave = new_user(chat_stack.outputs), new_user(chat_stack.outputs)

    names = [f"long-{i}" for i in range(12)]
    room_ids = asyncio.run(rooms_with_long_last_messages(chat_stack.outputs, dave, carol, names))
    person = Person(chat_stack, carol.username, password=PASSWORD)
    try:
        person.expect(rf"you are {carol.username}")
        for room_id in room_ids:  # the listing at start, every page of it
            person.expect(rf"#long-\d+ {room_id}  unread 1")
        assert person.quit() == 0
    finally:
        if person.process.poll() is None:
            person.process.kill()
            person.process.wait()
