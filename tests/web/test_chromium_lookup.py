"""Finding a Chromium: a machine without one gets a failure that says how to install one, never a skip."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import chromium
from tests.support.chromium import ChromiumMissing


def test_chromium_env_must_name_an_executable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CHROMIUM", str(tmp_path / "no-such-chromium"))
    with pytest.raises(ChromiumMissing, match="is not a file; install a Chromium: `sudo apt-get install"):
        chromium.system_chromium()


def test_chromium_env_wins_over_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    executable = tmp_path / "my-chromium"
    executable.write_text("#!/bin/sh\n")
    monkeypatch.setenv("CHROMIUM", str(executable))
    assert chromium.system_chromium() == executable


def test_no_chromium_on_path_is_none(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CHROMIUM", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert chromium.system_chromium() is None


def test_a_failed_playwright_install_fails_with_the_install_commands(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Given a machine whose Playwright cannot download (its download host unreachable)
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(tmp_path / "browsers"))
    monkeypatch.setenv("PLAYWRIGHT_DOWNLOAD_HOST", "http://127.0.0.1:9")
    # Then installing fails loudly, naming both ways to get a Chromium
    with pytest.raises(ChromiumMissing) as failure:
        chromium.install_playwright_chromium()
    message = str(failure.value)
    assert "`playwright install chromium` failed" in message
    assert "apt-get install -y chromium" in message and "python -m playwright install chromium" in message
