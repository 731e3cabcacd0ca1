"""A real HTTP `@connections` management API on 127.0.0.1, controlled by the test that starts it.

It answers `POST /<stage>/@connections/<id>` and `DELETE` (DeleteConnection: later posts get 410) like
API Gateway does, records every delivered frame and every close per connection, and injects faults
per connection (on posts and closes alike): `410 GoneException` (a closed connection), `429`
throttling, `504` gateway timeouts and slow answers; like API Gateway, it refuses a body over 128 KB
with `413 PayloadTooLargeException`. moto's own `apigatewaymanagementapi` never
answers 410, which is why the tests need this one.

    with ConnectionsServer() as server:
        os.environ["CONNECTIONS_ENDPOINT"] = server.endpoint
        server.close("conn-b")               # posts to conn-b now get 410
        server.connecting("conn-f")          # 410 (inside its $connect) until established("conn-f")
        server.fail("conn-c", 429, times=2)  # the next two posts to conn-c get 429
        server.delay("conn-d", 0.2)          # conn-d answers after 200 ms
        ...
        server.frames("conn-a")              # the JSON frames delivered to conn-a
        server.deleted("conn-e")             # how often DeleteConnection closed conn-e
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

LOOPBACK = "127.0.0.1"
_ERROR_TYPES = {
    410: "GoneException",
    413: "PayloadTooLargeException",
    429: "LimitExceededException",
    504: "GatewayTimeoutException",
}
MESSAGE_LIMIT = 128 * 1024  # API Gateway's: a larger post is refused with 413


class ConnectionsServer:
    def __init__(self, *, stage: str = "test", default_delay: float = 0.0) -> None:
        self.stage = stage
        self.default_delay = default_delay
        self._lock = threading.Lock()
        self._delivered: dict[str, list[tuple[float, bytes]]] = defaultdict(list)
        self._attempts: dict[str, int] = defaultdict(int)
        self._closed: set[str] = set()
        self._deleted: dict[str, int] = defaultdict(int)
        self._faults: dict[str, list[int]] = defaultdict(list)
        self._delays: dict[str, float] = {}
        self._httpd = _QuietServer((LOOPBACK, 0), _handler_for(self))
        self._thread: threading.Thread | None = None

    @property
    def endpoint(self) -> str:
        return f"http://{LOOPBACK}:{self._httpd.server_address[1]}/{self.stage}"

    def start(self) -> ConnectionsServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="connections-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> ConnectionsServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- faults -------------------------------------------------------------------------------
    def close(self, connection_id: str) -> None:
        """Every later post to this connection gets 410 Gone."""
        with self._lock:
            self._closed.add(connection_id)

    def connecting(self, connection_id: str) -> None:
        """The connection is inside its `$connect`: like API Gateway, posts to it get 410 until
        `established`."""
        self.close(connection_id)

    def established(self, connection_id: str) -> None:
        """Its `$connect` returned and the handshake completed: posts reach it."""
        with self._lock:
            self._closed.discard(connection_id)

    def fail(self, connection_id: str, status: int, *, times: int = 1) -> None:
        """The next `times` posts to this connection get `status` (429, 504, ...)."""
        with self._lock:
            self._faults[connection_id] += [status] * times

    def delay(self, connection_id: str, seconds: float) -> None:
        """Posts to this connection are answered after `seconds`."""
        with self._lock:
            self._delays[connection_id] = seconds

    # -- what happened ------------------------------------------------------------------------
    def frames(self, connection_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return [json.loads(data) for _, data in self._delivered.get(connection_id, [])]

    def payloads(self, connection_id: str) -> list[bytes]:
        """The raw bodies delivered to `connection_id`, as they came over the wire."""
        with self._lock:
            return [data for _, data in self._delivered.get(connection_id, [])]

    def delivery_times(self, connection_id: str) -> list[float]:
        """`time.monotonic()` of each delivery to this connection (when its answer was ready)."""
        with self._lock:
            return [at for at, _ in self._delivered.get(connection_id, [])]

    def attempts(self, connection_id: str) -> int:
        """Posts received for this connection, answered with success or not."""
        with self._lock:
            return self._attempts.get(connection_id, 0)

    def deleted(self, connection_id: str) -> int:
        """DeleteConnection requests that closed this connection (0 or 1: later ones get 410)."""
        with self._lock:
            return self._deleted.get(connection_id, 0)

    def delivered_count(self) -> int:
        with self._lock:
            return sum(len(frames) for frames in self._delivered.values())

    def reset(self) -> None:
        with self._lock:
            for store in (self._delivered, self._attempts, self._faults, self._delays, self._deleted):
                store.clear()
            self._closed.clear()

    # -- serving ------------------------------------------------------------------------------
    def _answer(self, connection_id: str, data: bytes | None) -> int:
        """A post's status (`data` None: a DeleteConnection's, which closes the connection)."""
        with self._lock:
            self._attempts[connection_id] += 1
            delay = self._delays.get(connection_id, self.default_delay)
            if connection_id in self._closed:
                status = 410
            elif data is not None and len(data) > MESSAGE_LIMIT:
                status = 413
            elif self._faults.get(connection_id):
                status = self._faults[connection_id].pop(0)
            else:
                status = 200
        if delay:
            time.sleep(delay)
        if status == 200:
            with self._lock:
                if data is None:
                    self._deleted[connection_id] += 1
                    self._closed.add(connection_id)
                else:
                    self._delivered[connection_id].append((time.monotonic(), data))
        return status


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up on a slow answer (a timeout test) is expected, not an error."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _handler_for(server: ConnectionsServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self._serve(self.rfile.read(int(self.headers.get("Content-Length", "0"))))

        def do_DELETE(self) -> None:
            self._serve(None)

        def _serve(self, data: bytes | None) -> None:
            marker = "/@connections/"
            if marker not in self.path:
                self._reply(404, "NotFoundException")
                return
            connection_id = unquote(self.path.split(marker, 1)[1].split("?", 1)[0])
            status = server._answer(connection_id, data)
            self._reply(status, _ERROR_TYPES.get(status, "InternalServerErrorException"))

        def _reply(self, status: int, error_type: str) -> None:
            body = b"" if status == 200 else json.dumps({"message": error_type}).encode()
            self.send_response(status)
            if status != 200:
                self.send_header("x-amzn-ErrorType", error_type)
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read the records instead
            return

    return Handler


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Serve a fake @connections API on 127.0.0.1 until interrupted."
    )
    parser.add_argument("--delay-ms", type=float, default=0.0)
    args = parser.parse_args(argv)
    with ConnectionsServer(default_delay=args.delay_ms / 1000) as server:
        print(server.endpoint, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
