"""The real product, run by the local stack: the dev environment, synthesized with host bundling."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from local_stack.harness import LocalStackProcess
from tests.e2e import support


@pytest.fixture(scope="session")
def chat_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStackProcess]:
    process = LocalStackProcess(tmp_path_factory.mktemp("chat-dev"), env="dev")
    process.start()
    yield process
    process.stop()


@pytest.fixture(scope="session")
def outputs(chat_stack: LocalStackProcess) -> dict[str, str]:
    return chat_stack.outputs


@pytest.fixture(autouse=True)
def frames_follow_the_contract() -> Iterator[None]:
    """A frame off docs/asyncapi.yaml, sent or received by any client of the test, fails the test."""
    support.VIOLATIONS.clear()
    yield
    if support.VIOLATIONS:
        pytest.fail("\n".join(str(violation) for violation in support.VIOLATIONS), pytrace=False)
