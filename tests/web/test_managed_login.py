"""Managed login in Chromium: the page's authorization-code + PKCE flow against a test OAuth server.

The server (tests/support/oauth_server.py) stands where an environment's Cognito domain would, and
hands out the local user pool's own tokens, so the page then connects to the real local stack.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from local_stack.moto_service import free_port
from local_stack.webapp import WebAppServer
from tests.e2e.support import PASSWORD, User, new_user
from tests.support.oauth_server import Grant, OAuthError, OAuthServer, s256
from tests.web.pages import ChatPage

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def managed(
    outputs: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[OAuthServer, str]]:
    """The OAuth server, and the page served with outputs that name it as `ManagedLoginUrl`."""
    port = free_port()
    page_url = f"http://127.0.0.1:{port}/"
    oauth = OAuthServer(
        outputs["CognitoEndpoint"], outputs["Region"], outputs["UserPoolClientId"], [page_url]
    )
    oauth.start()
    outputs_file = tmp_path_factory.mktemp("managed-login") / "outputs.json"
    outputs_file.write_text(json.dumps({**outputs, "ManagedLoginUrl": oauth.url}))
    web = WebAppServer(port, outputs_file).start()
    yield oauth, page_url
    web.stop()
    oauth.stop()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context()
    yield context
    context.close()


@pytest.fixture
def user(outputs: dict[str, str]) -> User:
    return new_user(outputs)


def test_sign_in_with_pkce_connects_and_leaves_no_token_in_the_url_or_storage(
    managed: tuple[OAuthServer, str], context: BrowserContext, user: User, screenshots: Path
) -> None:
    oauth, page_url = managed
    chat = ChatPage.open(context, page_url)
    # When the user picks managed login, the page goes to the authorize endpoint with an S256 challenge
    with chat.page.expect_navigation(url=f"{oauth.url}/oauth2/authorize?*"):
        chat.page.get_by_role("button", name="Use managed login").click()
    query = {key: value[0] for key, value in parse_qs(urlsplit(chat.page.url).query).items()}
    assert query["code_challenge_method"] == "S256" and "code_verifier" not in query
    assert query["redirect_uri"] == page_url and query["client_id"] == oauth.client_id
    # and signs in there
    chat.page.get_by_label("Email").fill(user.username)
    chat.page.get_by_label("Password").fill(PASSWORD)
    chat.page.get_by_role("button", name="Sign in").click()
    # Then the page redeems the code with the verifier that matches, and connects
    chat.expect_connected()
    expect(chat.page.get_by_text(f"Signed in as {user.username}")).to_be_visible()
    assert oauth.token_requests == [("authorization_code", "ok")]
    # with nothing of the sign-in left in the address bar, and no token stored but the refresh token
    assert chat.page.url == page_url
    storage = chat.page.evaluate("() => JSON.stringify({...sessionStorage, ...localStorage})")
    assert oauth.issued_id_tokens[0] not in storage
    assert list(json.loads(storage)) == ["chat.refresh"]
    chat.page.screenshot(path=screenshots / "web-managed-login.png")

    # A reload signs back in with the refresh token grant
    chat.page.reload()
    chat.expect_connected()
    assert oauth.token_requests[-1] == ("refresh_token", "ok")

    # Signing out goes through the domain's logout endpoint back to the page, signed out
    with chat.page.expect_navigation(url=page_url):
        chat.page.get_by_role("button", name="Sign out").click()
    expect(chat.page.get_by_role("button", name="Use managed login")).to_be_visible()
    assert chat.page.evaluate("() => sessionStorage.length") == 0


def test_a_callback_this_tab_did_not_start_is_refused_without_a_token_request(
    managed: tuple[OAuthServer, str], context: BrowserContext
) -> None:
    oauth, page_url = managed
    before = len(oauth.token_requests)
    chat = ChatPage.open(context, f"{page_url}?code=stolen-code&state=forged")
    expect(chat.page.get_by_role("alert")).to_contain_text("not started by this tab")
    assert chat.page.url == page_url
    assert len(oauth.token_requests) == before


def test_a_refused_sign_in_is_shown(managed: tuple[OAuthServer, str], context: BrowserContext) -> None:
    _, page_url = managed
    chat = ChatPage.open(context, f"{page_url}?error=access_denied&error_description=User+cancelled")
    expect(chat.page.get_by_role("alert")).to_have_text("User cancelled")
    assert chat.page.url == page_url


def test_the_server_refuses_a_verifier_that_does_not_match() -> None:
    # What the success path above relies on: the code is only redeemed with the challenge's verifier
    oauth = OAuthServer("http://127.0.0.1:9", "ap-northeast-1", "client", ["http://127.0.0.1/"])
    oauth._codes["code"] = Grant("client", "http://127.0.0.1/", s256("the-right-verifier"), {})
    request = {"grant_type": "authorization_code", "client_id": "client", "code": "code"}
    with pytest.raises(OAuthError, match="does not match"):
        oauth.token({**request, "redirect_uri": "http://127.0.0.1/", "code_verifier": "another-verifier"})
    assert oauth.token_requests == [("authorization_code", "invalid_grant")]
