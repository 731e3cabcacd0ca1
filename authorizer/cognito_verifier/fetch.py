"""Fetch a small JSON document over HTTP(S) within one overall deadline.

``http.client`` directly, not ``urllib.request``: no redirects (a JWKS address that redirects is a
misconfiguration, not something to follow), a cap on the body size, and a deadline that covers the
whole exchange, so a server that trickles bytes cannot hold the caller past the timeout.
"""

from __future__ import annotations

import http.client
import json
import time
from typing import Any
from urllib.parse import urlsplit


class FetchError(Exception):
    """The document could not be fetched or parsed (the message never holds a token)."""


def check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(f"JWKS URL must be an absolute http(s) URL, got {url!r}")


def _arm(connection: http.client.HTTPConnection, deadline: float, timeout: float) -> None:
    """Give the next socket operation only what is left of the overall deadline."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise FetchError(f"no complete answer within {timeout:g} s")
    if connection.sock is not None:
        connection.sock.settimeout(remaining)


def fetch_json(url: str, *, timeout: float, max_bytes: int = 64 * 1024) -> Any:
    """GET `url` and parse its JSON body; raise :class:`FetchError` on any failure or after `timeout`.

    The deadline covers connect, request, headers and body (name resolution excepted: the socket
    timeout cannot bound it).
    """
    deadline = time.monotonic() + timeout
    parts = urlsplit(url)
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(parts.hostname or "", parts.port, timeout=timeout)
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    try:
        connection.connect()
        _arm(connection, deadline, timeout)
        connection.request("GET", path, headers={"Accept": "application/json"})
        _arm(connection, deadline, timeout)
        response = connection.getresponse()
        if response.status != 200:
            raise FetchError(f"HTTP {response.status}")
        body = bytearray()
        while True:
            _arm(connection, deadline, timeout)
            chunk = response.read1(16 * 1024)
            if not chunk:
                break
            body += chunk
            if len(body) > max_bytes:
                raise FetchError(f"body larger than {max_bytes} bytes")
        return json.loads(body.decode("utf-8"))
    except FetchError:
        raise
    except (OSError, http.client.HTTPException, ValueError) as error:  # timeouts are OSErrors
        raise FetchError(f"{type(error).__name__}: {error}") from error
    finally:
        connection.close()
