"""Synthesizes a source tree (the working tree, or a git ref exported to a temporary directory).

The app runs as the CDK CLI runs it (the `app` command of the tree's own `cdk.json`, context in
`CDK_CONTEXT_JSON`, output directory in `CDK_OUTDIR`), so any revision of the app synthesizes, with
no AWS account. Assets are not bundled (`aws:cdk:bundling-stacks: []`): no network, no pip, and a
function's code change still shows as its changed asset hash.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import tarfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# What the review needs of a synth: construct paths on resources, and no bundling.
REVIEW_CONTEXT = {"aws:cdk:bundling-stacks": [], "aws:cdk:enable-path-metadata": True}
# Installed once per checkout and reused by an exported revision (which has neither).
SHARED_INSTALLS = (".venv", "node_modules")
QUIET_JSII = {
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "20",
}


class ReviewError(RuntimeError):
    """A ref that does not resolve, a tree that is not a CDK app, or a synth that failed."""


def synthesize(
    source: Path, outdir: Path, env_name: str, extra_context: Mapping[str, Any] | None = None
) -> Path:
    """Synthesize the app in `source` for `env_name` into `outdir`; the assembly's directory."""
    try:
        app_command = json.loads((source / "cdk.json").read_text())["app"]
    except (OSError, ValueError, KeyError) as error:
        raise ReviewError(f"{source}: no CDK app command in cdk.json ({error})") from error
    context = {**REVIEW_CONTEXT, "env": env_name, **(extra_context or {})}
    env = {**os.environ, **QUIET_JSII, "CDK_OUTDIR": str(outdir), "CDK_CONTEXT_JSON": json.dumps(context)}
    result = subprocess.run(
        shlex.split(app_command), cwd=source, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        output = (result.stderr or result.stdout).strip()[-4000:]
        raise ReviewError(f"synthesizing {env_name} in {source} failed (exit {result.returncode}):\n{output}")
    return outdir


def resolve(repo: Path, ref: str) -> str:
    """The full commit id `ref` names in `repo`."""
    result = _git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
    if result.returncode != 0:
        raise ReviewError(f"unknown git ref {ref!r}: not a commit in {repo} (fetch it first?)")
    return result.stdout.strip()


def export(repo: Path, commit: str, destination: Path) -> Path:
    """The tree of `commit` written to `destination`, with this checkout's installs linked in.

    `git archive` leaves the repository untouched (no worktree to register or prune) and works in a
    shallow clone that has the commit.
    """
    destination.mkdir(parents=True)
    archive = destination.with_suffix(".tar")
    result = _git(repo, "archive", "--format=tar", f"--output={archive}", commit)
    if result.returncode != 0:
        raise ReviewError(f"git archive {commit} failed: {result.stderr.strip()}")
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(destination, filter="data")
    except tarfile.TarError as error:  # e.g. a committed link that points outside the tree
        raise ReviewError(f"cannot export {commit}: {error}") from error
    archive.unlink()
    for name in SHARED_INSTALLS:
        if (repo / name).exists() and not (destination / name).exists():
            (destination / name).symlink_to((repo / name).resolve())
    return destination


def describe_working_tree(repo: Path) -> str:
    """`HEAD (abc1234)`, plus "+ uncommitted changes" when the working tree differs from it."""
    head = _git(repo, "rev-parse", "--short", "HEAD").stdout.strip() or "no commit"
    dirty = _git(repo, "status", "--porcelain").stdout.strip()  # new files are synthesized too
    return f"`HEAD` ({head}{' + uncommitted changes' if dirty else ''})"


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False)
    except FileNotFoundError as error:
        raise ReviewError("git is not installed") from error
