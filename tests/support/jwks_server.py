"""A real JWKS endpoint on 127.0.0.1 (a thread), with the faults a verifier must survive.

    with JwksServer(issuer.jwks()) as server:       # or the ``jwks_server`` pytest fixture
        verifier = CognitoIdTokenVerifier(..., jwks_url=server.url)
        server.hits                                 # JWKS requests served so far
        server.delay = 5.0                          # answer every request 5 s late
        server.trickle = 0.2                        # then send the body 64 bytes every 0.2 s
        server.status = 503                         # answer 503 (None: serve the JWKS again)
        server.go_down(); server.come_up()          # refuse connections, then listen again (same port)
        server.set_jwks(other.jwks())               # rotate the keys

Any path other than :attr:`path` gets a 404 and is not counted.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

LOOPBACK = "127.0.0.1"
JWKS_PATH = "/.well-known/jwks.json"


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        owner = self.server.owner
        if self.path != owner.path:
            self._reply(404, b'{"message":"not found"}')
            return
        delay, trickle, status, body = owner._record_hit()
        if delay:
            time.sleep(delay)
        if status is None:
            self._reply(200, body, trickle)
        else:
            self._reply(status, b'{"message":"injected failure"}')

    def _reply(self, status: int, body: bytes, trickle: float = 0.0) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not trickle:
                self.wfile.write(body)
                return
            for start in range(0, len(body), 64):
                self.wfile.write(body[start : start + 64])
                self.wfile.flush()
                time.sleep(trickle)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (its timeout is shorter than our delay): that is the point

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, port: int, owner: JwksServer) -> None:
        super().__init__((LOOPBACK, port), _Handler)
        self.owner = owner


class JwksServer:
    """Serves a JWKS over HTTP on 127.0.0.1; see the module docstring."""

    def __init__(self, jwks: dict[str, Any] | None = None, *, path: str = JWKS_PATH) -> None:
        self.path = path
        self.delay = 0.0
        self.trickle = 0.0
        self.status: int | None = None
        self._lock = threading.Lock()
        self._body = b""
        self._hits = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0
        self.set_jwks(jwks if jwks is not None else {"keys": []})

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}{self.path}"

    @property
    def hits(self) -> int:
        """Requests for the JWKS received so far (including failed and delayed ones)."""
        with self._lock:
            return self._hits

    def reset_hits(self) -> None:
        with self._lock:
            self._hits = 0

    def set_jwks(self, jwks: dict[str, Any] | bytes) -> None:
        """Serve `jwks` from now on (bytes are served as they are, for malformed documents)."""
        body = jwks if isinstance(jwks, bytes) else json.dumps(jwks).encode()
        with self._lock:
            self._body = body

    def _record_hit(self) -> tuple[float, float, int | None, bytes]:
        with self._lock:
            self._hits += 1
            return self.delay, self.trickle, self.status, self._body

    def start(self) -> JwksServer:
        self.come_up()
        return self

    def come_up(self) -> None:
        """Listen (again, on the same port once it has one)."""
        if self._server is not None:
            return
        self._server = _Server(self.port, self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="jwks-server", daemon=True
        )
        self._thread.start()

    def go_down(self) -> None:
        """Close the listening socket: connections are refused until :meth:`come_up`."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        assert self._thread is not None
        self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    stop = go_down

    def __enter__(self) -> JwksServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@pytest.fixture
def jwks_server() -> Iterator[JwksServer]:
    """A started, empty JWKS server; tests call ``set_jwks``. Import it into a conftest to use it."""
    with JwksServer() as server:
        yield server
