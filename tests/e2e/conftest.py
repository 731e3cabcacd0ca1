"""The real product, run by the local stack: the dev environment, synthesized with host bundling."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from local_stack.harness import LocalStackProcess


@pytest.fixture(scope="session")
def chat_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStackProcess]:
    process = LocalStackProcess(tmp_path_factory.mktemp("chat-dev"), env="dev")
    process.start()
    yield process
    process.stop()


@pytest.fixture(scope="session")
def outputs(chat_stack: LocalStackProcess) -> dict[str, str]:
    return chat_stack.outputs
