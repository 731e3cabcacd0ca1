"""The JavaScript client's own tests (clients/js/test/*.test.js, `node --test`) on this local stack.

Node gets the stack's outputs, the test users' password and moto's signing key (for tokens with a
chosen expiry) in CHAT_TEST_STACK; it creates its users and signs them in through Cognito itself.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from tests.e2e.support import PASSWORD, moto_signing_key

pytestmark = pytest.mark.slow

CLIENT = Path(__file__).resolve().parents[2] / "clients" / "js"


def test_the_js_client_passes_its_tests_against_the_local_stack(outputs: dict[str, str]) -> None:
    node = shutil.which("node")
    assert node is not None, "Node.js 20+ is needed (the README's prerequisites)"
    kid, key = moto_signing_key()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    stack = {"outputs": outputs, "password": PASSWORD, "signingKey": {"kid": kid, "pem": pem}}
    files = sorted(str(path) for path in (CLIENT / "test").glob("*.test.js"))
    assert files, "no test files found"
    result = subprocess.run(
        [node, "--test", "--test-reporter=spec", *files],
        cwd=CLIENT,
        env={**os.environ, "CHAT_TEST_STACK": json.dumps(stack)},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, f"node --test failed:\n{result.stdout}\n{result.stderr}"
    # A test that skips (it did not get the stack) would hide a missing check: none may.
    assert "skipped 0" in result.stdout, result.stdout
