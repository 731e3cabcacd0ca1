"""The Chromium the browser tests drive: `$CHROMIUM`, the system's, or Playwright's own download.

Order: `$CHROMIUM` (a path to the executable); a `chromium` on PATH (Debian's package, what `.ci/run`
installs); Playwright's bundled Chromium, downloaded with `playwright install chromium` when missing
(a normal machine with internet). When none of them works the caller fails with `ChromiumMissing`,
whose message says how to install one: the suite never skips for want of a browser.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

SYSTEM_NAMES = ("chromium", "chromium-browser", "google-chrome-stable", "google-chrome")
INSTALL_HINT = (
    "install a Chromium: `sudo apt-get install -y chromium` (Debian/Ubuntu), or "
    "`.venv/bin/python -m playwright install chromium`, or set CHROMIUM=/path/to/chromium"
)
# What works in containers and CI: no sandbox (root), no GPU, nothing that calls home.
LAUNCH_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


class ChromiumMissing(RuntimeError):
    pass


def system_chromium() -> Path | None:
    """`$CHROMIUM` if set (it must exist), else the first Chromium on PATH, else None."""
    configured = os.environ.get("CHROMIUM")
    if configured:
        path = Path(configured)
        if not path.is_file():
            raise ChromiumMissing(f"CHROMIUM={configured} is not a file; {INSTALL_HINT}")
        return path
    for name in SYSTEM_NAMES:
        found = shutil.which(name)
        if found:
            return Path(found)
    return None


def install_playwright_chromium() -> None:
    """`playwright install chromium`; ChromiumMissing with its output when it cannot download."""
    result = subprocess.run(
        [sys.executable, "-m", "playwright", "install", "chromium"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip()[-1500:]
        raise ChromiumMissing(
            f"no Chromium found and `playwright install chromium` failed:\n{output}\n{INSTALL_HINT}"
        )
