"""Run every benchmark module (``benchmarks/bench_*.py``, each with a ``main()``), or the named ones.

Usage: ``python -m benchmarks`` runs all; ``python -m benchmarks verifier`` runs bench_verifier.py only.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import benchmarks


def main(argv: list[str]) -> None:
    available = sorted(
        info.name.removeprefix("bench_")
        for info in pkgutil.iter_modules(benchmarks.__path__)
        if info.name.startswith("bench_")
    )
    chosen = argv or available
    unknown = sorted(set(chosen) - set(available))
    if unknown:
        sys.exit(f"unknown benchmark(s) {', '.join(unknown)}; available: {', '.join(available)}")
    for name in chosen:
        print(f"== {name} ==", flush=True)
        importlib.import_module(f"benchmarks.bench_{name}").main()
        print(flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
