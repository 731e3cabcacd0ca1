"""Docker-free bundling: real pip installs into real assets (host platform, and Lambda's arm64)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk
import pytest

from stacks.app import build_app
from stacks.bundling import CodeRoot, PipBundling
from stacks.constants import BUNDLING_HOST, BUNDLING_LAMBDA

REPO = Path(__file__).parents[2]
CDK_CLI = REPO / "node_modules" / ".bin" / "cdk"
ELF_MACHINE_AARCH64 = 183  # e_machine of an arm64 ELF shared object


def asset_dirs(outdir: Path, stack: str) -> dict[str, Path]:
    """Function construct id -> its bundled asset directory, read from the template like the local stack."""
    template = json.loads((outdir / f"{stack}.template.json").read_text())
    return {
        resource["Metadata"]["aws:cdk:path"].split("/")[-2]: outdir / resource["Metadata"]["aws:asset:path"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Lambda::Function"
    }


@pytest.mark.slow
def test_host_bundling_builds_each_asset_once_with_code_and_dependencies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a spy on the bundler (it still bundles)
    calls: list[str] = []
    real_try_bundle = PipBundling.try_bundle

    def counting_try_bundle(self: PipBundling, output_dir: str, options: cdk.BundlingOptions) -> bool:
        calls.append(output_dir)
        return real_try_bundle(self, output_dir, options)

    monkeypatch.setattr(PipBundling, "try_bundle", counting_try_bundle)
    # When dev is synthesized for this machine
    build_app({"env": "dev", "bundling": BUNDLING_HOST}, outdir=str(tmp_path)).synth()
    # Then the two assets (authorizer, routes) were bundled once each, for four functions
    assert len(calls) == 2
    assets = asset_dirs(tmp_path, "Chat-dev")
    assert len(set(assets.values())) == 2
    routes, authorizer = assets["LifecycleFunction"], assets["AuthorizerFunction"]
    assert assets["DirectFunction"] == assets["BroadcastFunction"] == routes
    # And each holds its code roots and its pip-installed requirements, without bytecode caches
    for entry in (REPO / "authorizer").iterdir():
        if entry.name != "__pycache__":
            assert (authorizer / entry.name).exists(), entry.name
    assert (authorizer / "jwt").is_dir() and (authorizer / "cryptography").is_dir()
    assert (routes / "chat").is_dir() and (routes / "cognito_verifier").is_dir()
    assert (routes / "metric_names").is_dir() and (authorizer / "metric_names").is_dir()
    assert (routes / "route_keys").is_dir() and not (authorizer / "route_keys").exists()
    assert (routes / "aws_lambda_powertools").is_dir() and (routes / "jwt").is_dir()
    assert not (routes / "handler.py").exists()  # the authorizer's handler stays in its own asset
    assert not list(routes.rglob("__pycache__")) and not list(authorizer.rglob("*.pyc"))
    # And the dependencies import on this machine from the bundle alone (no site-packages)
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]); import jwt, cryptography.x509, telemetry;"
        "print(jwt.__file__); print(telemetry.metric_names.__file__)"
    )
    result = subprocess.run(
        [sys.executable, "-S", "-c", probe, str(authorizer)], capture_output=True, text=True, check=True
    )
    assert all(line.startswith(str(authorizer)) for line in result.stdout.splitlines())


def elf_machine(path: Path) -> int:
    header = path.read_bytes()[:20]
    assert header[:4] == b"\x7fELF"
    return int.from_bytes(header[18:20], "little")


@pytest.mark.slow
@pytest.mark.skipif(not CDK_CLI.exists(), reason="needs node_modules (make bootstrap)")
def test_cdk_cli_synthesizes_prod_for_lambda_arm64_without_credentials(tmp_path: Path) -> None:
    # Given no AWS credentials or configuration at all
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CDK_"))}
    env |= {"AWS_CONFIG_FILE": str(tmp_path / "none"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none")}
    env |= {"CDK_DISABLE_VERSION_CHECK": "1", "AWS_EC2_METADATA_DISABLED": "true"}
    # When the pinned CLI synthesizes prod
    out = tmp_path / "cdk.out"
    command = [str(CDK_CLI), "synth", "-c", "env=prod", "--quiet", "--output", str(out)]
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    # Then the native dependencies are Lambda's: CPython 3.14 on arm64
    assets = asset_dirs(out, "Chat-prod")
    routes = assets["BroadcastFunction"]
    (cffi,) = routes.glob("_cffi_backend.cpython-314-aarch64-linux-gnu.so")
    assert elf_machine(cffi) == ELF_MACHINE_AARCH64
    assert (
        elf_machine(routes / "cryptography" / "hazmat" / "bindings" / "_rust.abi3.so") == ELF_MACHINE_AARCH64
    )
    assert (assets["AuthorizerFunction"] / "jwt").is_dir()


@pytest.mark.skipif(not CDK_CLI.exists(), reason="needs node_modules (make bootstrap)")
def test_cdk_cli_refuses_an_unknown_environment_listing_the_known_ones(tmp_path: Path) -> None:
    env = {**os.environ, "CDK_DISABLE_VERSION_CHECK": "1"}
    command = [str(CDK_CLI), "synth", "-c", "env=qa", "--quiet", "--output", str(tmp_path)]
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "unknown environment 'qa'; known environments: dev, staging, prod" in result.stderr


def bundler_at(base: Path) -> PipBundling:
    """A bundler over `base/code` plus `base/shared` copied in, with `-r ../common.txt` included."""
    return PipBundling(
        roots=[CodeRoot(base / "code"), CodeRoot(base / "shared", "shared")],
        requirements=base / "code" / "requirements.txt",
        mode=BUNDLING_LAMBDA,
    )


def write_inputs(base: Path) -> None:
    (base / "code" / "pkg").mkdir(parents=True)
    (base / "code" / "pkg" / "mod.py").write_text("VALUE = 1\n")
    (base / "shared").mkdir()
    (base / "shared" / "verify.py").write_text("def verify(): ...\n")
    (base / "common.txt").write_text("")
    (base / "code" / "requirements.txt").write_text("-r ../common.txt\n")


def test_fingerprint_covers_copied_in_roots_and_included_requirements_only(tmp_path: Path) -> None:
    write_inputs(tmp_path / "a")
    bundler = bundler_at(tmp_path / "a")
    before = bundler.fingerprint()
    # Bytecode and tool caches do not count
    (tmp_path / "a" / "shared" / "__pycache__").mkdir()
    (tmp_path / "a" / "shared" / "__pycache__" / "verify.cpython-311.pyc").write_bytes(b"\0")
    (tmp_path / "a" / "code" / ".pytest_cache").mkdir()
    (tmp_path / "a" / "code" / ".pytest_cache" / "README.md").write_text("cache")
    assert bundler.fingerprint() == before
    # The same inputs elsewhere (another clone) give the same hash
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    assert bundler_at(tmp_path / "b").fingerprint() == before
    # A change in a root copied in from elsewhere changes it, and so does an included requirements file
    (tmp_path / "a" / "shared" / "verify.py").write_text("def verify(): return True\n")
    after_code = bundler.fingerprint()
    assert after_code != before
    (tmp_path / "a" / "common.txt").write_text("PyJWT==2.15.1\n")
    assert bundler.fingerprint() != after_code


def test_failing_pip_install_fails_the_bundle_with_pip_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a requirement that cannot be found (no index: fails fast, offline)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "requirements.txt").write_text("no-such-package-for-chat==9.9.9\n")
    bundler = PipBundling(
        roots=[CodeRoot(tmp_path / "code")],
        requirements=tmp_path / "code" / "requirements.txt",
        mode=BUNDLING_HOST,
    )
    options = cdk.BundlingOptions(image=cdk.DockerImage.from_registry("unused"))
    # Then bundling raises with pip's own explanation instead of falling back to Docker
    with pytest.raises(RuntimeError, match="no-such-package-for-chat"):
        bundler.try_bundle(str(tmp_path / "out"), options)
