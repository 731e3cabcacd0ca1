"""The local stack for a benchmark: started from a fresh state directory, stopped and removed after."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.e2e.support import ChatClient
from tests.support.local_stack import LocalStackProcess

CONNECT_AT_ONCE = 100
# The local stack and moto need credentials of some kind; no request leaves this machine.
FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "ap-northeast-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


@contextmanager
def local_stack(name: str) -> Iterator[dict[str, str]]:
    """The outputs of a local stack (env dev) running for the block; its log tail if the block fails."""
    for key, value in FAKE_AWS.items():
        os.environ.setdefault(key, value)
    state_dir = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
    stack = LocalStackProcess(state_dir, env="dev")
    try:
        started = time.perf_counter()
        outputs = stack.start()
        print(f"local stack (env dev) started in {time.perf_counter() - started:.0f} s")
        yield outputs
    except BaseException:
        print(stack.log_tail(), file=sys.stderr)
        raise
    finally:
        stack.stop()
        shutil.rmtree(state_dir, ignore_errors=True)


async def opened(outputs: dict[str, str], tokens: list[str]) -> list[ChatClient]:
    """A connection per token, ``CONNECT_AT_ONCE`` handshakes at a time."""
    clients: list[ChatClient] = []
    for start in range(0, len(tokens), CONNECT_AT_ONCE):
        chunk = tokens[start : start + CONNECT_AT_ONCE]
        clients += await asyncio.gather(*(ChatClient.open(outputs, token) for token in chunk))
    return clients
