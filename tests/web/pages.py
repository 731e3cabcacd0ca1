"""The chat page as a person uses it: by the accessible names of its controls, in one browser context."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, ClassVar

from playwright.sync_api import BrowserContext, Locator, Page, WebSocket, expect

from tests.support import contract

TIMEOUT_MS = 15_000


@dataclass
class ChatPage:
    page: Page
    # The page's connection ids, newest last, read from the `identity` replies its client receives.
    connection_ids: list[str] = field(default_factory=list)
    # Every frame its WebSockets sent and received, checked against docs/asyncapi.yaml afterwards.
    sent: list[dict[str, Any]] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)
    opened: ClassVar[list[ChatPage]] = []

    @classmethod
    def open(cls, context: BrowserContext, url: str) -> ChatPage:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        chat = cls(page)
        cls.opened.append(chat)
        page.on("websocket", chat._watch)
        page.goto(url)
        return chat

    def _watch(self, socket: WebSocket) -> None:
        def received(payload: str | bytes) -> None:
            frame = json.loads(payload)
            self.received.append(frame)
            if frame.get("type") == "identity":
                self.connection_ids.append(frame["connectionId"])

        socket.on("framesent", lambda payload: self.sent.append(json.loads(payload)))
        socket.on("framereceived", received)

    def check_frames(self) -> None:
        """Every frame is one the document defines, and each reply one its request allows.

        The page also asks for `getMembers`, which a backend without it answers `UNKNOWN_ACTION`,
        as the document says any unknown action is answered. (A request whose page reloaded or
        closed before the reply came has no reply to check.)
        """
        for frame in self.received:
            contract.check_server_frame(frame)
        replies = {frame["requestId"]: frame for frame in self.received if "requestId" in frame}
        for frame in self.sent:
            reply = replies.get(frame.get("requestId", ""))
            if frame.get("action") in contract.client_frames():
                contract.check_client_frame(frame)
                if reply is not None:
                    contract.check_reply(frame["action"], reply)
            elif reply is not None and reply.get("code") != "UNKNOWN_ACTION":  # none: the page moved on
                raise contract.ContractViolation(f"{frame} is not in docs/asyncapi.yaml, got {reply}")

    @property
    def status(self) -> Locator:
        return self.page.get_by_role("status")

    @property
    def rooms(self) -> Locator:
        return self.page.get_by_role("list", name="Rooms")

    @property
    def log(self) -> Locator:
        return self.page.get_by_role("log")

    def room(self, name: str) -> Locator:
        return self.rooms.get_by_role("button", name=name, exact=True)

    def sign_in(self, email: str, password: str) -> None:
        self.page.get_by_role("textbox", name="Email").fill(email)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Sign in", exact=True).click()
        self.expect_connected()

    def expect_connected(self) -> None:
        expect(self.status).to_have_text("Connected")

    def create_room(self, name: str) -> str:
        """Creates an open room and returns its id (shown under the room's title)."""
        self.page.get_by_role("button", name="New room").click()
        self.page.get_by_role("textbox", name="Room name").fill(name)
        self.page.get_by_role("button", name="Create", exact=True).click()
        expect(self.page.get_by_role("heading", name=name)).to_be_visible()
        return self.room_id()

    def room_id(self) -> str:
        code = self.page.get_by_text("Room id").locator("code")
        expect(code).not_to_be_empty()
        return code.inner_text()

    def join(self, room_id: str) -> None:
        self.page.get_by_role("textbox", name="Room id").fill(room_id)
        self.page.get_by_role("button", name="Join", exact=True).click()
        expect(self.page.get_by_text("Room id").locator("code")).to_have_text(room_id)

    def open_room(self, name: str) -> None:
        self.room(name).click()
        expect(self.page.get_by_role("heading", name=name)).to_be_visible()

    def send(self, text: str) -> None:
        self.page.get_by_role("textbox", name="Message").fill(text)
        self.page.get_by_role("button", name="Send").click()

    def message(self, text: str) -> Locator:
        return self.log.get_by_text(text, exact=True)

    def article(self, text: str) -> Locator:
        """The whole message holding `text`: sender, time, content, its buttons and receipt."""
        return self.log.locator("article", has_text=text)

    @property
    def message_box(self) -> Locator:
        return self.page.get_by_role("textbox", name="Message")

    def unread(self, name: str) -> Locator:
        return self._room_item(name).locator(".unread")

    def mentions(self, name: str) -> Locator:
        """The room's badge of messages that mention you ("@N", "@99+")."""
        return self._room_item(name).locator(".mentions")

    def _room_item(self, name: str) -> Locator:
        named = self.page.get_by_role("button", name=name, exact=True)  # relative to each list item
        return self.rooms.get_by_role("listitem").filter(has=named)
