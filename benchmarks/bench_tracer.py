"""What X-Ray tracing (Powertools Tracer) would add to a route function's cold start.

Each variant runs the init phase of BroadcastFunction (importing its handler module) in a fresh
interpreter, with the environment Lambda gives a function, so that Tracer believes it runs in Lambda
and patches as it would there:

- `handler`: the function as deployed (no tracing);
- `+ Tracer()`: the same after `from aws_lambda_powertools import Tracer; Tracer()`, which imports
  aws-xray-sdk and patches every library it supports (botocore among them).

Each is timed twice: with bytecode caches, and from source, as the bundle runs on Lambda (it is
built with `pip install --no-compile` and Lambda's code directory is read-only, so nothing is
cached). Variants are interleaved run by run (the machine is shared); figures are medians.

    python -m benchmarks tracer
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 15

TIMED = """
import json, time
started = time.perf_counter()
{prelude}
import chat.handlers.broadcast
print(json.dumps({{"init": time.perf_counter() - started}}))
"""
VARIANTS = {"handler": "", "+ Tracer()": "from aws_lambda_powertools import Tracer; Tracer()"}
# What Lambda sets (LAMBDA_TASK_ROOT is how Tracer knows it runs in Lambda), plus the function's own.
LAMBDA_ENV = {
    "LAMBDA_TASK_ROOT": str(ROOT / "lambdas"),
    "AWS_LAMBDA_FUNCTION_NAME": "Chat-bench-BroadcastFunction",
    "AWS_REGION": "ap-northeast-1",
    "AWS_DEFAULT_REGION": "ap-northeast-1",
    "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
    "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
    "POWERTOOLS_SERVICE_NAME": "chat",
    "POWERTOOLS_METRICS_NAMESPACE": "Chat/bench",
    "TABLE_NAME": "bench",
    "FANOUT_FUNCTION_NAME": "Chat-bench-FanoutFunction",
    "PYTHONPATH": os.pathsep.join(str(ROOT / part) for part in ("lambdas", "authorizer", ".")),
}


def init_seconds(prelude: str, *, from_source: bool) -> float:
    """One cold init in a fresh interpreter that writes no bytecode."""
    env = {**os.environ, **LAMBDA_ENV}
    with tempfile.TemporaryDirectory() as empty:
        if from_source:  # an empty cache prefix: every module is compiled from its source
            env["PYTHONPYCACHEPREFIX"] = empty
        result = subprocess.run(
            [sys.executable, "-B", "-c", TIMED.format(prelude=prelude)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
    return float(json.loads(result.stdout.splitlines()[-1])["init"])


def main() -> None:
    init_seconds("", from_source=False)  # fill the page cache once, unmeasured
    for from_source in (False, True):
        samples: dict[str, list[float]] = {name: [] for name in VARIANTS}
        for _ in range(RUNS):
            for name, prelude in VARIANTS.items():
                samples[name].append(init_seconds(prelude, from_source=from_source))
        mode = "from source (as on Lambda)" if from_source else "with bytecode caches"
        print(f"BroadcastFunction init {mode}, median of {RUNS} fresh interpreters, interleaved:")
        baseline = statistics.median(samples["handler"])
        for name, values in samples.items():
            median = statistics.median(values)
            spread = f"{min(values) * 1000:.0f}-{max(values) * 1000:.0f}"
            added = (median - baseline) * 1000
            print(f"  {name:<11} {median * 1000:6.1f} ms  (+{added:5.1f} ms; range {spread} ms)")


if __name__ == "__main__":
    main()
