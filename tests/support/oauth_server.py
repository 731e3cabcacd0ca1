"""A small OAuth 2.0 authorization server in front of a (moto) Cognito user pool, for the PKCE tests.

moto has no hosted UI, so this plays Cognito's managed login at the paths a Cognito domain serves:

    GET  /oauth2/authorize   checks the request (code flow, client, redirect URI, S256 challenge) and
                             shows a sign-in form (Email, Password, "Sign in")
    POST /login              checks the password with the pool's InitiateAuth, then redirects to the
                             redirect URI with a one-time `code` and the `state`
    POST /oauth2/token       authorization_code (the code once, same client and redirect URI, and
                             BASE64URL(SHA256(code_verifier)) == the challenge) or refresh_token;
                             answers the pool's own tokens, so the WebSocket authorizer accepts them
    GET  /logout             redirects to `logout_uri` when it is an allowed one

Errors follow RFC 6749 (`invalid_request`, `invalid_grant`, ...). The token endpoint answers CORS
as Cognito's does, so a page on another origin can call it.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import boto3
from botocore.exceptions import ClientError

LOOPBACK = "127.0.0.1"


class OAuthError(Exception):
    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


@dataclass
class Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    tokens: dict[str, str]


@dataclass
class OAuthServer:
    """Start with `start()`; `url` is what an environment's `ManagedLoginUrl` would be."""

    cognito_endpoint: str
    region: str
    client_id: str
    redirect_uris: list[str]
    # What happened, for the tests to check: each token request's grant type and outcome.
    token_requests: list[tuple[str, str]] = field(default_factory=list)
    issued_id_tokens: list[str] = field(default_factory=list)
    url: str = field(init=False, default="")
    _codes: dict[str, Grant] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = field(init=False, default=None)

    def start(self) -> OAuthServer:
        self._server = ThreadingHTTPServer((LOOPBACK, 0), _handler(self))
        self._server.daemon_threads = True
        self.url = f"http://{LOOPBACK}:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # --- the endpoints' logic -------------------------------------------------------------

    def check_authorize(self, query: dict[str, str]) -> None:
        if query.get("response_type") != "code":
            raise OAuthError("unsupported_response_type", "only the authorization code flow is allowed")
        if query.get("client_id") != self.client_id:
            raise OAuthError("invalid_client", "unknown client_id")
        if query.get("redirect_uri") not in self.redirect_uris:
            raise OAuthError("invalid_request", "redirect_uri is not an allowed callback URL")
        if query.get("code_challenge_method") != "S256" or len(query.get("code_challenge", "")) != 43:
            raise OAuthError("invalid_request", "a public client must send an S256 code_challenge")
        if "openid" not in query.get("scope", "").split():
            raise OAuthError("invalid_scope", "the openid scope is required for an ID token")

    def login(self, form: dict[str, str]) -> str:
        """The redirect after a successful sign-in (raises OAuthError for a bad password)."""
        self.check_authorize(form)
        tokens = self._cognito().initiate_auth(
            ClientId=self.client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": form.get("email", ""), "PASSWORD": form.get("password", "")},
        )["AuthenticationResult"]
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = Grant(form["client_id"], form["redirect_uri"], form["code_challenge"], tokens)
        return f"{form['redirect_uri']}?{urlencode({'code': code, 'state': form.get('state', '')})}"

    def token(self, form: dict[str, str]) -> dict[str, Any]:
        grant_type = form.get("grant_type", "")
        try:
            answer = self._token(grant_type, form)
        except OAuthError as error:
            self.token_requests.append((grant_type, error.error))
            raise
        self.token_requests.append((grant_type, "ok"))
        self.issued_id_tokens.append(answer["id_token"])
        return answer

    def _token(self, grant_type: str, form: dict[str, str]) -> dict[str, Any]:
        if form.get("client_id") != self.client_id:
            raise OAuthError("invalid_client", "unknown client_id")
        if grant_type == "authorization_code":
            with self._lock:
                grant = self._codes.pop(form.get("code", ""), None)  # a code works once
            if grant is None or grant.redirect_uri != form.get("redirect_uri"):
                raise OAuthError("invalid_grant", "unknown, used or mismatched authorization code")
            if s256(form.get("code_verifier", "")) != grant.challenge:
                raise OAuthError("invalid_grant", "code_verifier does not match the code_challenge")
            tokens = grant.tokens
            return _token_answer(tokens, tokens["RefreshToken"])
        if grant_type == "refresh_token":
            try:
                tokens = self._cognito().initiate_auth(
                    ClientId=self.client_id,
                    AuthFlow="REFRESH_TOKEN_AUTH",
                    AuthParameters={"REFRESH_TOKEN": form.get("refresh_token", "")},
                )["AuthenticationResult"]
            except ClientError as error:
                raise OAuthError("invalid_grant", "the refresh token is not valid") from error
            return _token_answer(tokens, None)
        raise OAuthError("unsupported_grant_type", f"grant_type {grant_type!r} is not supported")

    def logout_target(self, query: dict[str, str]) -> str:
        if query.get("client_id") != self.client_id or query.get("logout_uri") not in self.redirect_uris:
            raise OAuthError("invalid_request", "unknown client_id or logout_uri")
        return query["logout_uri"]

    def _cognito(self) -> Any:
        return boto3.client("cognito-idp", endpoint_url=self.cognito_endpoint, region_name=self.region)


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii", errors="replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _token_answer(tokens: dict[str, Any], refresh_token: str | None) -> dict[str, Any]:
    answer = {
        "id_token": tokens["IdToken"],
        "access_token": tokens["AccessToken"],
        "expires_in": tokens["ExpiresIn"],
        "token_type": "Bearer",
    }
    return answer | ({"refresh_token": refresh_token} if refresh_token else {})


def _form_page(query: dict[str, str], problem: str = "") -> bytes:
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}">'
        for name, value in query.items()
        if name not in ("email", "password")
    )
    alert = f'<p role="alert">{html.escape(problem)}</p>' if problem else ""
    return (
        "<!doctype html><title>Test managed login</title><h1>Test managed login</h1>"
        f'{alert}<form method="post" action="/login">{hidden}'
        '<label>Email <input name="email" type="email"></label>'
        '<label>Password <input name="password" type="password"></label>'
        "<button>Sign in</button></form>"
    ).encode()


def _handler(server: OAuthServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {key: values[0] for key, values in parse_qs(parts.query).items()}
            try:
                if parts.path == "/oauth2/authorize":
                    server.check_authorize(query)
                    self._reply(HTTPStatus.OK, "text/html; charset=utf-8", _form_page(query))
                elif parts.path == "/logout":
                    self._redirect(server.logout_target(query))
                else:
                    self._reply(HTTPStatus.NOT_FOUND, "text/plain", b"not found")
            except OAuthError as error:
                self._error(error)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = {key: values[0] for key, values in parse_qs(self.rfile.read(length).decode()).items()}
            path = urlsplit(self.path).path
            try:
                if path == "/login":
                    self._login(form)
                elif path == "/oauth2/token":
                    body = json.dumps(server.token(form)).encode()
                    self._reply(HTTPStatus.OK, "application/json", body, cors=True)
                else:
                    self._reply(HTTPStatus.NOT_FOUND, "text/plain", b"not found")
            except OAuthError as error:
                self._error(error, cors=path == "/oauth2/token")

        def do_OPTIONS(self) -> None:
            self._reply(HTTPStatus.NO_CONTENT, "text/plain", b"", cors=True)

        def _login(self, form: dict[str, str]) -> None:
            try:
                self._redirect(server.login(form))
            except ClientError:  # the pool refused the password: the form again, as Cognito shows it
                page = _form_page(form, "Incorrect username or password.")
                self._reply(HTTPStatus.OK, "text/html; charset=utf-8", page)

        def _error(self, error: OAuthError, *, cors: bool = False) -> None:
            body = json.dumps({"error": error.error, "error_description": error.description}).encode()
            self._reply(HTTPStatus.BAD_REQUEST, "application/json", body, cors=cors)

        def _redirect(self, location: str) -> None:
            self.send_response(HTTPStatus.FOUND)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _reply(self, status: HTTPStatus, content_type: str, body: bytes, *, cors: bool = False) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            if cors:
                self.send_header("Access-Control-Allow-Origin", self.headers.get("Origin") or "*")
                self.send_header("Access-Control-Allow-Headers", "content-type")
                self.send_header("Access-Control-Allow-Methods", "POST, OPTIONS")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

    return Handler
