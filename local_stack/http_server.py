"""A minimal HTTP/1.1 server for the AWS-shaped APIs the local stack serves (``@connections``, Lambda).

It speaks what botocore sends: keep-alive connections and ``Content-Length`` bodies. Each request is
handed to a coroutine as ``(method, target, headers, body)``; header names arrive lower-cased.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from http import HTTPStatus

Reply = tuple[int, dict[str, str], bytes]
Handler = Callable[[str, str, dict[str, str], bytes], Awaitable[Reply]]


def json_reply(status: int, value: object, headers: dict[str, str] | None = None) -> Reply:
    return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(value).encode()


class HttpServer:
    """A listening server and its open (keep-alive) connections, which ``close()`` closes too."""

    def __init__(self) -> None:
        self.server: asyncio.Server | None = None
        self.connections: set[asyncio.StreamWriter] = set()

    def close(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in self.connections:
            writer.close()  # a handler waiting for the next request then reads EOF and returns

    async def wait_closed(self) -> None:
        assert self.server is not None
        await self.server.wait_closed()


async def serve(handler: Handler, host: str, port: int, *, limit: int) -> HttpServer:
    """Listen on ``host:port``; ``limit`` bounds a request line or header line, not the body."""
    http = HttpServer()

    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        http.connections.add(writer)
        try:
            while request_line := await reader.readline():
                method, target, _ = request_line.decode("latin-1").split(" ", 2)
                headers: dict[str, str] = {}
                while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    name, _, value = line.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                status, reply_headers, reply_body = await handler(method, target, headers, body)
                head = [f"HTTP/1.1 {status} {_phrase(status)}"]
                head += [f"{key}: {value}" for key, value in reply_headers.items()]
                head += [f"Content-Length: {len(reply_body)}", "", ""]
                writer.write("\r\n".join(head).encode("latin-1") + reply_body)
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    break
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            http.connections.discard(writer)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    http.server = await asyncio.start_server(client, host, port, limit=limit)
    return http


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
