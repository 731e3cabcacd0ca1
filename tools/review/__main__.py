"""`python -m tools.review BASE [--env ENV]...` (`make review BASE=<ref>`); see tools/review/__init__.py.

Prints the Markdown review to stdout and, when `GITHUB_STEP_SUMMARY` is set (GitHub Actions),
appends the same text to that file. Progress goes to stderr. Exit status 0 when the review was
produced (whatever it found), 2 when it could not be (unknown ref, failed synth, bad arguments).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from stacks.constants import ENV_NAMES
from tools.review.assembly import AssemblyError, read_assembly
from tools.review.compare import StackReview, compare_assemblies
from tools.review.report import render_report
from tools.review.synth import ReviewError, describe_working_tree, export, resolve, synthesize

REPO = Path(__file__).resolve().parents[2]


def review(repo: Path, base_ref: str, env_names: list[str]) -> str:
    """The Markdown review of the working tree of `repo` against `base_ref`, for `env_names`."""
    commit = resolve(repo, base_ref)
    reviews: list[StackReview] = []
    with tempfile.TemporaryDirectory(prefix="review-") as tmp:
        base_tree = export(repo, commit, Path(tmp) / "base")
        for env_name in env_names:
            sides = []
            for label, source in (("base", base_tree), ("head", repo)):
                started = time.monotonic()
                outdir = synthesize(source, Path(tmp) / f"{label}-{env_name}", env_name)
                sides.append(read_assembly(outdir))
                _progress(f"synthesized {env_name} ({label}) in {time.monotonic() - started:.1f} s")
            # One environment's app may hold stacks shared by all (none today): review each stack once.
            known = {r.name for r in reviews}
            reviews += [r for r in compare_assemblies(*sides) if r.name not in known]
    base_label = f"`{base_ref}` ({commit[:7]})"
    return render_report(reviews, base_label=base_label, head_label=describe_working_tree(repo))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.review", description=__doc__.splitlines()[0])
    parser.add_argument("base", help="git ref to compare the working tree with, e.g. origin/main or HEAD~1")
    parser.add_argument(
        "--env",
        action="append",
        choices=ENV_NAMES,
        help="an environment to review (repeatable; default: all)",
    )
    args = parser.parse_args(argv)
    try:
        markdown = review(REPO, args.base, args.env or list(ENV_NAMES))
    except (ReviewError, AssemblyError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    sys.stdout.write(markdown)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as file:
            file.write(markdown)
    return 0


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
