"""Work that every pytest-xdist worker would otherwise repeat (a synth), done once per run.

Session fixtures are per worker under xdist. What they build from the repository alone (a cloud
assembly, a synthesized template) is the same on every worker, so the first worker to ask builds it
in a directory all workers share, under a file lock; the others wait for it and read it. A server
is never shared this way: each worker keeps its own, so no test sees another worker's state.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

DONE = ".built"


def shared_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The run's base temporary directory: the workers' common parent under xdist."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def once_per_run(
    tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], object]
) -> Path:
    """The directory `name`, filled by `build(directory)` the first time any worker asks for it.

    A build that raised leaves no mark: the next worker to ask tries again (and fails as loudly).
    """
    root = shared_root(tmp_path_factory) / "once"
    root.mkdir(exist_ok=True)
    directory = root / name
    with _locked(root / f"{name}.lock"):
        if not (directory / DONE).exists():
            shutil.rmtree(directory, ignore_errors=True)
            directory.mkdir()
            build(directory)
            (directory / DONE).touch()
    return directory
