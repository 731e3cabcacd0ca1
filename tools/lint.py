"""`python -m tools.lint`: cfn-lint over the synthesized template of every environment.

Fails on any error, and on any warning but the ones listed in `ACCEPTED_WARNINGS` (each with why).
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

from aws_cdk import Token
from cfnlint.api import ManualArgs, Match, lint

from stacks.app import build_app
from stacks.constants import ENV_NAMES, stack_name

# Environments with no pinned region are linted against these (resource and runtime availability).
DEFAULT_LINT_REGIONS = ("us-east-1", "eu-west-1", "ap-northeast-1")
ACCEPTED_WARNINGS = {
    # aws_lambda.Function always adds DependsOn on its role, which its Role GetAtt already implies.
    "W3005": "redundant DependsOn a function -> its role, added by aws-cdk-lib itself",
}
NO_BUNDLING = {"aws:cdk:bundling-stacks": []}


def synth_template(env_name: str, outdir: Path, **context: object) -> tuple[Path, tuple[str, ...]]:
    """The template of `env_name` (assets not bundled: lint reads the template only) and its regions."""
    app = build_app({"env": env_name, **NO_BUNDLING, **context}, outdir=str(outdir))
    stack = app.node.find_child(stack_name(env_name))
    app.synth()
    region = stack.region
    regions = DEFAULT_LINT_REGIONS if Token.is_unresolved(region) else (region,)
    return outdir / f"{stack_name(env_name)}.template.json", regions


def lint_template(template: Path, regions: Iterable[str]) -> list[Match]:
    """Every cfn-lint match of `template` that fails the gate (errors, and warnings not accepted)."""
    matches = lint(template.read_text(), config=ManualArgs(regions=list(regions)))
    return [m for m in matches if m.rule.id not in ACCEPTED_WARNINGS and not m.rule.id.startswith("I")]


def main() -> int:
    failures = 0
    with tempfile.TemporaryDirectory(prefix="cfn-lint-") as tmp:
        for env_name in ENV_NAMES:
            template, regions = synth_template(env_name, Path(tmp) / env_name)
            matches = lint_template(template, regions)
            failures += len(matches)
            for match in matches:
                print(f"{env_name}: {match.rule.id} {'/'.join(map(str, match.path))}: {match.message}")
            print(f"cfn-lint {stack_name(env_name)} ({', '.join(regions)}): {len(matches)} finding(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
