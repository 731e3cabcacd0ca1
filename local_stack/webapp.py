"""Serve the web chat page (web/), the JavaScript client it imports and the outputs it reads.

    GET /               web/index.html
    GET /<file>         a file of web/
    GET /client/<file>  a file of clients/js/src/ (the page imports ./client/index.js)
    GET /outputs.json   the outputs file, read on every request (it is written after the server starts)

`make local` runs it on ``--web-port``. Against a deployed environment:

    python -m local_stack.webapp --outputs outputs/dev.json [--port 3005]
"""

from __future__ import annotations

import argparse
import mimetypes
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from local_stack.moto_service import LOOPBACK
from local_stack.ports import PortInUse, ensure_free

REPOSITORY = Path(__file__).resolve().parent.parent
PAGE_ROOT = REPOSITORY / "web"
CLIENT_ROOT = REPOSITORY / "clients" / "js" / "src"
CLIENT_PREFIX = "/client/"
OUTPUTS_PATH = "/outputs.json"

_TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".json": "application/json"}


def content_type(path: Path) -> str:
    guessed = _TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"{guessed}; charset=utf-8" if guessed.startswith("text/") or guessed.endswith("json") else guessed


def resolve(url_path: str, outputs_file: Path) -> Path | None:
    """The file a request path names, or None when it names nothing servable (never outside a root)."""
    path = unquote(urlsplit(url_path).path)
    if path == OUTPUTS_PATH:
        return outputs_file
    if path.startswith(CLIENT_PREFIX):
        root, relative = CLIENT_ROOT, path[len(CLIENT_PREFIX) :]
    else:
        root, relative = PAGE_ROOT, path.lstrip("/") or "index.html"
    try:
        candidate = (root / relative).resolve()
        servable = candidate.is_relative_to(root) and candidate.is_file()
    except (OSError, ValueError):  # a NUL byte, a name too long for the file system
        return None
    return candidate if servable else None


def _handler(outputs_file: Path) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "chat-web"

        def do_GET(self) -> None:
            self._send(head_only=False)

        def do_HEAD(self) -> None:
            self._send(head_only=True)

        def _send(self, *, head_only: bool) -> None:
            file = resolve(self.path, outputs_file)
            try:
                body = file.read_bytes() if file is not None else None
            except OSError:
                body = None
            if file is None or body is None:
                self.send_error(HTTPStatus.NOT_FOUND, "Not Found")
                return
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", content_type(file))
            self.send_header("Content-Length", str(len(body)))
            # The page, the client and the outputs change while a developer works: never cache them.
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.end_headers()
            if not head_only:
                self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: one line per file loaded would drown the functions' log lines."""

    return Handler


class WebAppServer:
    """The page's HTTP server on 127.0.0.1, in a thread of its own."""

    def __init__(self, port: int, outputs_file: Path) -> None:
        self.port = port
        self.url = f"http://{LOOPBACK}:{port}/"
        self._server = ThreadingHTTPServer((LOOPBACK, port), _handler(outputs_file.resolve()))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="webapp", daemon=True)

    def start(self) -> WebAppServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m local_stack.webapp", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--outputs", type=Path, required=True, help="the outputs file (outputs/<env>.json)")
    parser.add_argument("--port", type=int, default=3005, help="port on 127.0.0.1 (default 3005)")
    args = parser.parse_args(argv)
    if not args.outputs.is_file():
        parser.error(f"{args.outputs} does not exist: run `make deploy ENV=<env>` first")
    try:
        ensure_free({"web page": args.port})
    except PortInUse as error:
        sys.exit(f"local_stack.webapp: {error}")
    server = WebAppServer(args.port, args.outputs).start()
    print(f"serving the chat page at {server.url} with {args.outputs} (Ctrl-C stops)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
