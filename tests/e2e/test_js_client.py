"""The JavaScript client's own tests (clients/js/test/*.test.js, `node --test`) on this local stack.

Node gets the stack's outputs, the test users' password and moto's signing key (for tokens with a
chosen expiry) in CHAT_TEST_STACK; it creates its users and signs them in through Cognito itself. It
records every frame its clients send and receive in CHAT_TEST_FRAMES, checked here against
docs/asyncapi.yaml as the Python e2e clients' frames are.
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
from tests.support import contract

pytestmark = pytest.mark.slow

CLIENT = Path(__file__).resolve().parents[2] / "clients" / "js"


def test_the_js_client_passes_its_tests_against_the_local_stack(
    outputs: dict[str, str], tmp_path: Path
) -> None:
    node = shutil.which("node")
    assert node is not None, "Node.js 20+ is needed (the README's prerequisites)"
    kid, key = moto_signing_key()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    stack = {"outputs": outputs, "password": PASSWORD, "signingKey": {"kid": kid, "pem": pem}}
    frames_file = tmp_path / "frames.jsonl"
    files = sorted(str(path) for path in (CLIENT / "test").glob("*.test.js"))
    assert files, "no test files found"
    result = subprocess.run(
        [node, "--test", "--test-reporter=spec", *files],
        cwd=CLIENT,
        env={**os.environ, "CHAT_TEST_STACK": json.dumps(stack), "CHAT_TEST_FRAMES": str(frames_file)},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, f"node --test failed:\n{result.stdout}\n{result.stderr}"
    # A test that skips (it did not get the stack) would hide a missing check: none may.
    assert "skipped 0" in result.stdout, result.stdout
    assert_frames_follow_the_contract(frames_file)


def assert_frames_follow_the_contract(frames_file: Path) -> None:
    """Every frame the client sent and was sent during node's run matches docs/asyncapi.yaml."""
    entries = [json.loads(line) for line in frames_file.read_text().splitlines()]
    assert len(entries) > 100, "the Node tests recorded their frames"
    violations = []
    for entry in entries:
        try:
            if "sent" in entry:
                contract.check_client_frame(entry["sent"])
            else:
                contract.check_server_frame(entry["received"])
        except contract.ContractViolation as violation:
            violations.append(str(violation))
    assert violations == [], "\n".join(violations)
