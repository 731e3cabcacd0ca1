"""What the page says when it cannot sign in or does not know its environment."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from local_stack.moto_service import free_port
from local_stack.webapp import WebAppServer
from tests.e2e.support import new_user
from tests.web.pages import ChatPage

pytestmark = pytest.mark.slow


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context()
    yield context
    context.close()


def serve(outputs_file: Path) -> WebAppServer:
    return WebAppServer(free_port(), outputs_file).start()


def test_a_wrong_password_is_said_and_the_form_stays(
    context: BrowserContext, outputs: dict[str, str]
) -> None:
    user = new_user(outputs)
    chat = ChatPage.open(context, outputs["WebAppUrl"])
    chat.page.get_by_role("textbox", name="Email").fill(user.username)
    chat.page.get_by_label("Password").fill("not-the-password-1A!")
    chat.page.get_by_role("button", name="Sign in", exact=True).click()
    expect(chat.page.get_by_role("alert")).to_have_text("Incorrect username or password.")
    expect(chat.status).to_have_text("Signed out")
    expect(chat.page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()


def test_an_unreachable_cognito_is_named(
    context: BrowserContext, outputs: dict[str, str], tmp_path: Path
) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    outputs_file = tmp_path / "outputs.json"
    outputs_file.write_text(json.dumps({**outputs, "CognitoEndpoint": closed}))
    web = serve(outputs_file)
    try:
        chat = ChatPage.open(context, web.url)
        chat.page.get_by_role("textbox", name="Email").fill("someone@example.com")
        chat.page.get_by_label("Password").fill("Any-Passw0rd-at-all!")
        chat.page.get_by_role("button", name="Sign in", exact=True).click()
        expect(chat.page.get_by_role("alert")).to_have_text(f"cannot reach {closed}")
    finally:
        web.stop()


@pytest.mark.parametrize(
    ("outputs_text", "said"),
    [
        (None, "cannot load outputs.json: HTTP 404"),
        ('{"Region": "ap-northeast-1"}', "outputs.json lacks UserPoolClientId, WebSocketUrl"),
        ("not json", "outputs.json is not JSON"),
    ],
)
def test_missing_or_incomplete_outputs_are_named(
    context: BrowserContext, tmp_path: Path, outputs_text: str | None, said: str
) -> None:
    outputs_file = tmp_path / "outputs.json"
    if outputs_text is not None:
        outputs_file.write_text(outputs_text)
    web = serve(outputs_file)
    try:
        chat = ChatPage.open(context, web.url)
        expect(chat.status).to_have_text(said)
        expect(chat.page.get_by_role("button", name="Sign in", exact=True)).to_be_hidden()
    finally:
        web.stop()
