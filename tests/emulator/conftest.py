"""The local stack running the fixture app: one with API Gateway's limits, one with short lifetimes.

The first runs Lambda's asynchronous retry delays and event ages 200 times faster than Lambda does
(a one-minute retry delay takes 0.3 s; a 60 s MaximumEventAgeInSeconds is 0.3 s).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.emulator.support import ASYNC_SCALE, FIXTURE_APP
from tests.support.local_stack import LocalAssembly, LocalStackProcess


@pytest.fixture(scope="session")
def stack(
    tmp_path_factory: pytest.TempPathFactory, local_assembly: LocalAssembly
) -> Iterator[LocalStackProcess]:
    process = LocalStackProcess(
        tmp_path_factory.mktemp("emulator"),
        assembly=local_assembly(app=FIXTURE_APP),
        no_demo_users=True,
        workers_per_function=4,
        async_retry_scale=ASYNC_SCALE,
        async_age_scale=ASYNC_SCALE,
    )
    process.start()
    yield process
    process.stop()


@pytest.fixture(scope="session")
def short_lived(
    stack: LocalStackProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalStackProcess]:
    """The same assembly with a 1.5 s idle timeout and a 4 s maximum connection lifetime."""
    process = LocalStackProcess(
        tmp_path_factory.mktemp("short-lived"),
        assembly=stack.assembly_dir,
        no_demo_users=True,
        idle_timeout=1.5,
        max_lifetime=4,
    )
    process.start()
    yield process
    process.stop()
