"""Docker-free Lambda bundling: pip-installs a function's requirements and copies its code roots.

CDK calls `PipBundling.try_bundle` (an `ILocalBundling`) while staging an asset. It always succeeds
or raises, so the Docker image that `BundlingOptions` requires is never pulled.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
import jsii
from aws_cdk import aws_lambda as lambda_

from stacks.constants import BUNDLING_LAMBDA, BUNDLING_MODES

# Lambda's platform: the python3.14 runtime on arm64 (Graviton).
LAMBDA_PIP_PLATFORM = (
    "--platform", "manylinux2014_aarch64", "--implementation", "cp", "--python-version", "3.14",
    "--only-binary=:all:",
)  # fmt: skip
# Never bundled, never hashed: bytecode and tool caches a developer's runs leave in the code roots.
_CACHES = ("__pycache__", "*.pyc", ".pytest_cache", ".ruff_cache", ".hypothesis")


@dataclass(frozen=True)
class CodeRoot:
    """A directory copied into the bundle, at `target` (relative; "" is the bundle's root)."""

    source: Path
    target: str = ""


@jsii.implements(cdk.ILocalBundling)
class PipBundling:
    """Bundles code roots plus `pip install -r requirements` for Lambda's platform or for this host."""

    def __init__(self, *, roots: Sequence[CodeRoot], requirements: Path, mode: str) -> None:
        if mode not in BUNDLING_MODES:
            raise ValueError(f"unknown bundling mode {mode!r}; known modes: {', '.join(BUNDLING_MODES)}")
        self._roots = tuple(roots)
        self._requirements = requirements
        self._mode = mode

    def try_bundle(self, output_dir: str, _options: cdk.BundlingOptions) -> bool:
        """Fill `output_dir`; raise on failure, so CDK never falls back to Docker."""
        out = Path(output_dir)
        self._pip_install(out)
        for root in self._roots:
            shutil.copytree(root.source, out / root.target, ignore=_ignore_caches, dirs_exist_ok=True)
        return True

    def _pip_install(self, out: Path) -> None:
        platform_args = LAMBDA_PIP_PLATFORM if self._mode == BUNDLING_LAMBDA else ()
        command = [
            sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
            "--no-compile", "--requirement", str(self._requirements), "--target", str(out), *platform_args,
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(
                f"bundling {self._requirements} failed (exit {result.returncode}):\n{result.stderr[-4000:]}"
            )

    def fingerprint(self) -> str:
        """A hash of everything that goes into the bundle: the code roots, the requirements, the mode.

        CDK's default source hash covers only the asset's own directory; this one also covers the
        roots copied in from elsewhere (the verifier in the route functions' bundle). Paths enter it
        relative, so every clone computes the same hash.
        """
        digest = hashlib.sha256(self._mode.encode())
        for label, path in sorted(self._inputs()):
            digest.update(label.encode() + b"\0" + path.read_bytes() + b"\0")
        return digest.hexdigest()

    def _inputs(self) -> Iterator[tuple[str, Path]]:
        for root in self._roots:
            for path in root.source.rglob("*"):
                relative = path.relative_to(root.source)
                if path.is_file() and not any(_is_cache(part) for part in relative.parts):
                    yield f"{root.target}/{relative.as_posix()}", path
        base = self._requirements.parent
        for path in _requirement_files(self._requirements):
            yield f"requirements:{os.path.relpath(path, base)}", path


def _is_cache(name: str) -> bool:
    return any(fnmatch.fnmatch(name, pattern) for pattern in _CACHES)


def _ignore_caches(_directory: str, names: list[str]) -> set[str]:
    """`shutil.copytree` ignore hook: the same caches the fingerprint leaves out."""
    return {name for name in names if _is_cache(name)}


def _requirement_files(requirements: Path) -> Iterator[Path]:
    """The requirements file and every file it includes with `-r`, recursively."""
    yield requirements
    for line in requirements.read_text().splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] in ("-r", "--requirement"):
            yield from _requirement_files((requirements.parent / parts[1]).resolve())


def bundled_code(*, roots: Sequence[CodeRoot], requirements: Path, mode: str) -> lambda_.Code:
    """Lambda code staged from the first root, bundled by `PipBundling` (never Docker)."""
    bundler = PipBundling(roots=roots, requirements=requirements, mode=mode)
    return lambda_.Code.from_asset(
        str(roots[0].source),
        asset_hash=bundler.fingerprint(),
        # jsii calls try_bundle(output_dir, options) with the options as one struct, not as the keyword
        # arguments its generated ILocalBundling protocol declares.
        bundling=cdk.BundlingOptions(
            image=cdk.DockerImage.from_registry("unused"),
            local=bundler,  # type: ignore[arg-type]
        ),
    )
