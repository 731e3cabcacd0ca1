"""Fan-out: 500 connections, each post answered after 20 ms, through the real `chat.fanout` module.

The `@connections` server (tests/support/connections_server.py) runs in its own process, so the
figure is the fan-out's own cost. Ideal: ceil(500 / pool size) x 20 ms, as if every worker were always
busy waiting on the network and nothing else. Goal: elapsed <= 2 x ideal.
"""

from __future__ import annotations

import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONNECTIONS = 500
POST_MS = 20.0
RUNS = 5


def main() -> None:
    sys.path.insert(0, str(ROOT / "lambdas"))
    for key, value in {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "ap-northeast-1",
    }.items():
        os.environ.setdefault(key, value)
    from chat import fanout

    server = subprocess.Popen(
        [sys.executable, "-m", "tests.support.connections_server", "--delay-ms", str(POST_MS)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        endpoint = server.stdout.readline().strip()
        targets = [f"bench-{i:04d}" for i in range(CONNECTIONS)]
        fanout.post(endpoint, targets[: fanout.POOL_SIZE], {"type": "warmup"})
        timings = []
        for run in range(RUNS):
            started = time.perf_counter()
            outcome = fanout.post(endpoint, targets, {"type": "message", "run": run, "content": "x" * 200})
            timings.append(time.perf_counter() - started)
            if len(outcome.delivered) != CONNECTIONS:
                raise SystemExit(
                    f"run {run}: delivered {len(outcome.delivered)} of {CONNECTIONS}: {outcome.failed}"
                )
    finally:
        server.terminate()
        server.wait(timeout=10)
    ideal = math.ceil(CONNECTIONS / fanout.POOL_SIZE) * POST_MS / 1000
    median = statistics.median(timings)
    print(f"connections          {CONNECTIONS} (each post answered after {POST_MS:.0f} ms)")
    print(f"pool size            {fanout.POOL_SIZE} workers = {fanout.POOL_SIZE} HTTP connections")
    formula = f"ceil({CONNECTIONS}/{fanout.POOL_SIZE}) x {POST_MS:.0f} ms"
    print(f"ideal                {ideal * 1000:.0f} ms  ({formula})")
    print(f"elapsed, {RUNS} runs      " + ", ".join(f"{t * 1000:.0f}" for t in timings) + " ms")
    print(f"median / ideal       {median / ideal:.2f}x  (goal <= 2.00x)")
    print(f"best / ideal         {min(timings) / ideal:.2f}x")


if __name__ == "__main__":
    main()
