"""The web chat page in a real Chromium, against the real local stack (dev settings)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Error, Playwright, expect, sync_playwright

from tests.support.chromium import LAUNCH_ARGS, ChromiumMissing, install_playwright_chromium, system_chromium
from tests.web.pages import TIMEOUT_MS, ChatPage

# Two cores shared with other work: a warm worker answers in milliseconds, a cold one takes seconds.
expect.set_options(timeout=TIMEOUT_MS)


# Package scope: Playwright's sync API keeps an event loop running in this thread while it is
# started, which would break asyncio.run in the tests of other folders. The stack (`chat_stack`,
# `outputs`) is the session's, from tests/conftest.py.
@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Chromium found on this machine, or Playwright's (installed on first use); never a skip."""
    try:
        executable = system_chromium()
        if executable is None:
            try:
                instance = playwright.chromium.launch(args=list(LAUNCH_ARGS))
            except Error:
                install_playwright_chromium()
                instance = playwright.chromium.launch(args=list(LAUNCH_ARGS))
        else:
            instance = playwright.chromium.launch(executable_path=executable, args=list(LAUNCH_ARGS))
    except ChromiumMissing as error:
        pytest.fail(str(error), pytrace=False)
    yield instance
    instance.close()


@pytest.fixture(autouse=True)
def frames_follow_the_contract() -> Iterator[None]:
    """After each test, every frame its pages' WebSockets carried is checked against the document."""
    ChatPage.opened.clear()
    yield
    for page in ChatPage.opened:
        page.check_frames()


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """Where a test puts its screenshots: $WEB_SCREENSHOTS (to refresh docs/) or the test's tmp dir."""
    directory = Path(os.environ.get("WEB_SCREENSHOTS") or tmp_path)
    directory.mkdir(parents=True, exist_ok=True)
    return directory
