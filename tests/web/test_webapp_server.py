"""The page's HTTP server (local_stack/webapp.py): what `make local` serves on --web-port."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from local_stack.moto_service import free_port
from local_stack.webapp import WebAppServer
from tests.support.local_stack import REPOSITORY, LocalStackProcess


def get(url: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method=method)) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[WebAppServer, Path]]:
    outputs = tmp_path / "outputs.json"
    web = WebAppServer(free_port(), outputs).start()
    yield web, outputs
    web.stop()


def test_serves_the_page_the_client_and_the_outputs_as_they_are_now(
    server: tuple[WebAppServer, Path],
) -> None:
    web, outputs = server
    status, headers, body = get(web.url)
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert body == (REPOSITORY / "web" / "index.html").read_bytes()
    status, headers, body = get(web.url + "client/index.js")
    assert status == 200 and headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert body == (REPOSITORY / "clients" / "js" / "src" / "index.js").read_bytes()
    assert headers["Cache-Control"] == "no-store"
    # The outputs file is read on each request: missing (not written yet), then as written
    assert get(web.url + "outputs.json")[0] == 404
    outputs.write_text(json.dumps({"WebSocketUrl": "ws://127.0.0.1:1/dev"}))
    status, headers, body = get(web.url + "outputs.json")
    assert status == 200 and headers["Content-Type"] == "application/json; charset=utf-8"
    assert json.loads(body) == {"WebSocketUrl": "ws://127.0.0.1:1/dev"}
    status, headers, body = get(web.url + "app.js", method="HEAD")
    assert status == 200 and body == b"" and int(headers["Content-Length"]) > 0


@pytest.mark.parametrize(
    "path",
    [
        "../pyproject.toml",
        "%2e%2e/pyproject.toml",
        "client/../../../../pyproject.toml",
        "client/%2e%2e/%2e%2e/%2e%2e/pyproject.toml",
        "client/",
        "nothing-here.js",
        "..%2fcdk.json",
        "index.html%00.js",
        "x" * 5000,
    ],
)
def test_nothing_outside_the_page_and_the_client_is_served(
    server: tuple[WebAppServer, Path], path: str
) -> None:
    web, _ = server
    status, _, body = get(web.url + path)
    assert status == 404, body
    assert b"serverless-chat" not in body


def test_serving_against_a_deployed_environment_needs_its_outputs_file(tmp_path: Path) -> None:
    missing = tmp_path / "outputs" / "dev.json"
    result = subprocess.run(
        [sys.executable, "-m", "local_stack.webapp", "--outputs", str(missing)],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert f"{missing} does not exist: run `make deploy ENV=<env>` first" in result.stderr


@pytest.mark.slow
def test_make_local_serves_the_page_with_its_own_outputs(chat_stack: LocalStackProcess) -> None:
    url = chat_stack.outputs["WebAppUrl"]
    assert url == f"http://127.0.0.1:{chat_stack.ports['web']}/"
    status, _, body = get(url + "outputs.json")
    assert status == 200 and json.loads(body) == chat_stack.outputs
    assert f"web chat page   {url}" in chat_stack.log_path.read_text()
