"""One person's chat session: the connection, typed lines in, frames out, reconnect and token renewal."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from chat_cli import auth
from chat_cli.commands import State, UsageError, parse, request_id
from chat_cli.render import render

KEEPALIVE_SECONDS = 240  # API Gateway closes a connection after 10 idle minutes
DRAIN_SECONDS = 5.0
REPLY_WAIT_SECONDS = 10.0


class ChatSession:
    def __init__(
        self,
        outputs: dict[str, str],
        tokens: auth.Tokens,
        *,
        show: Callable[[str], None],
        auto_read: bool = True,
    ) -> None:
        self.outputs = outputs
        self.tokens = tokens
        self.state = State()
        self.show = show
        self.auto_read = auto_read
        self._pending: dict[str, dict[str, Any]] = {}
        self._ws: ClientConnection | None = None
        self._quitting = False
        self._quiet: set[str] = set()

    async def run(self, lines: asyncio.Queue[str | None]) -> None:
        await self._connect()
        receiver = asyncio.create_task(self._receive_forever())
        keepalive = asyncio.create_task(self._keepalive())
        try:
            while (line := await lines.get()) is not None:
                if line.strip() == "/quit":
                    break
                await self.handle_line(line.strip())
            await self._drain()
        finally:
            self._quitting = True
            keepalive.cancel()
            if self._ws is not None:
                await self._ws.close()
            receiver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await receiver

    async def handle_line(self, line: str) -> None:
        if not line:
            return
        if line.startswith("/wait"):
            await asyncio.sleep(float(line.split()[1]) if len(line.split()) > 1 else 1.0)
            return
        try:
            frame = parse(line, self.state)
        except UsageError as usage:
            self.show(str(usage))
            return
        except ValueError as error:
            self.show(f"! {error}")
            return
        if frame is not None:
            await self.send(frame)
            await self._await_reply(frame["requestId"])

    async def send(self, frame: dict[str, Any], *, quiet: bool = False) -> None:
        frame.setdefault("requestId", request_id())
        if frame["action"] not in {"typing", "markRead"}:
            self._pending[frame["requestId"]] = frame
        if quiet:
            self._quiet.add(frame["requestId"])
        try:
            assert self._ws is not None
            await self._ws.send(json.dumps(frame))
        except ConnectionClosed:
            self.show("! not connected; reconnecting, send it again in a moment")

    async def _await_reply(self, request_id: str) -> None:
        """Lines are handled in order: the next waits for this one's reply (as a person would)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + REPLY_WAIT_SECONDS
        while request_id in self._pending and loop.time() < deadline:
            await asyncio.sleep(0.02)

    async def _connect(self) -> None:
        url = f"{self.outputs['WebSocketUrl']}?idToken={quote(self.tokens.id_token, safe='')}"
        try:
            self._ws = await connect(url, max_size=None)
        except InvalidStatus as refused:
            status = refused.response.status_code
            if status not in {401, 403} or not self.tokens.refresh_token:
                raise
            self.tokens.id_token = auth.refresh(self.outputs, self.tokens.refresh_token)
            url = f"{self.outputs['WebSocketUrl']}?idToken={quote(self.tokens.id_token, safe='')}"
            self._ws = await connect(url, max_size=None)
        await self.send({"action": "whoami"})
        await self.send({"action": "listRooms"})

    async def _receive_forever(self) -> None:
        while True:
            try:
                assert self._ws is not None
                async for raw in self._ws:
                    await self._on_frame(json.loads(raw))
            except ConnectionClosed:
                pass
            if self._quitting:
                return
            self.show("* connection closed; reconnecting ...")
            await self._reconnect()

    async def _reconnect(self) -> None:
        for delay in (0.5, 1, 2, 4, 8, 15, 30):
            try:
                await self._connect()
            except (OSError, InvalidStatus) as error:
                self.show(f"* reconnect failed ({error}); retrying in {delay}s")
                await asyncio.sleep(delay)
                continue
            # Resume: whatever was sent, edited or deleted while we were away, in the current room
            # and in any room waiting for a gap to be filled (the old connection's replies will never come).
            rooms = {self.state.current, *self.state.held, *self.state.catching_up.values()}
            self.state.catching_up.clear()
            for room in sorted(room for room in rooms if room is not None):
                await self.send(self.state.catch_up(room, reread=True))
            return
        raise ConnectionError("could not reconnect")

    async def _on_frame(self, frame: dict[str, Any]) -> None:
        sent = self._pending.pop(frame.get("requestId", ""), None)
        if (
            frame.get("type") == "error"
            and frame.get("code") == "TOKEN_EXPIRED"
            and sent
            and self.tokens.refresh_token
        ):
            self.tokens.id_token = await asyncio.to_thread(
                auth.refresh, self.outputs, self.tokens.refresh_token
            )
            await self.send({"action": "reauth", "idToken": self.tokens.id_token})
            await self.send(sent)
            return
        quiet = frame.get("requestId") in self._quiet
        room = self.state.current
        read_before = self.state.last_seq.get(room, 0) if room is not None else 0
        continues = (
            frame.get("type") in {"message", "messageDeleted"}  # a tombstone may fill its seq's place
            or frame.get("requestId") in self.state.catching_up
        )
        text = render(frame, self.state)
        if text is not None and not quiet:
            self.show(text)
        self._quiet.discard(frame.get("requestId", ""))
        while self.state.outbox:  # a gap to fill from the history
            await self.send(self.state.outbox.pop(0))
        if frame.get("type") == "rooms" and frame.get("cursor"):  # the listing goes on: its next page
            await self.send({"action": "listRooms", "cursor": frame["cursor"]}, quiet=quiet)
        if frame.get("type") == "joined":  # learn the room's name, show its recent history
            await self.send({"action": "listRooms"}, quiet=True)
            await self.send({"action": "getMessages", "roomId": frame["roomId"], "limit": 20})
        if (  # new messages shown in the current room: read up to the last one
            self.auto_read
            and continues
            and room is not None
            and room == self.state.current
            and self.state.last_seq.get(room, 0) > read_before
        ):
            await self.send({"action": "markRead", "roomId": room, "seq": self.state.last_seq[room]})

    async def _keepalive(self) -> None:
        while True:
            await asyncio.sleep(KEEPALIVE_SECONDS)
            with contextlib.suppress(ConnectionClosed):
                assert self._ws is not None
                await self._ws.send(json.dumps({"action": "ping"}))

    async def _drain(self) -> None:
        """After the last line (or end of input), wait briefly for the replies still due."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + DRAIN_SECONDS
        while self._pending and loop.time() < deadline:
            await asyncio.sleep(0.05)
