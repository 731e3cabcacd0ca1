"""Fixtures shared by every test folder: fake AWS credentials, a moto server on 127.0.0.1, the local
stack that tests/e2e and tests/web drive (started once per worker, on first use) and the cloud
assemblies the local stacks run (synthesized once per run)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from local_stack.assembly import DEFAULT_APP, synthesize
from local_stack.moto_service import MotoServer
from tests.support.local_stack import LocalAssembly, LocalStackProcess
from tests.support.once import once_per_run

REGION = "ap-northeast-1"

# No test may reach AWS: fake credentials, a fixed region, no metadata-service look-ups.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "20",
    }
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Files with `slow` tests first, each file's tests kept together and in order: under xdist the
    workers take files in this order, so the longest (the 1,500-member room) starts early instead
    of one worker running it alone at the end."""
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_files)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    """One moto server (Cognito + DynamoDB over real HTTP) for the whole session."""
    with MotoServer() as server:
        yield server


@pytest.fixture(scope="session")
def local_assembly(tmp_path_factory: pytest.TempPathFactory) -> LocalAssembly:
    """`local_assembly(env="staging")`: an app synthesized with host bundling, as `make local` does it,
    once per run (a synth with bundling costs seconds) and shared by every local stack that runs it."""

    def get(*, app: str = DEFAULT_APP, env: str = "dev") -> Path:
        name = f"assembly-{app.replace(':', '.')}-{env}"
        context = {"env": env, "bundling": "host"}
        return once_per_run(tmp_path_factory, name, lambda outdir: synthesize(app, context, outdir))

    return get


@pytest.fixture(scope="session")
def chat_stack(
    tmp_path_factory: pytest.TempPathFactory, local_assembly: LocalAssembly
) -> Iterator[LocalStackProcess]:
    """The real product, run by the local stack: the dev environment, synthesized with host bundling.

    One per worker: tests/e2e and tests/web share it (each test signs up users of its own).
    """
    process = LocalStackProcess(tmp_path_factory.mktemp("chat-dev"), assembly=local_assembly(env="dev"))
    process.start()
    yield process
    process.stop()


@pytest.fixture(scope="session")
def outputs(chat_stack: LocalStackProcess) -> dict[str, str]:
    return chat_stack.outputs
