"""Synthesize a CDK app into a cloud assembly and read the stack the local stack runs from it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_APP = "stacks.app:build_app"


class AssemblyError(RuntimeError):
    """The cloud assembly cannot be produced or holds no stack the local stack can run."""


def synthesize(app: str, context: dict[str, str], outdir: Path) -> Path:
    """Synthesize ``app`` (``module:function``) into ``outdir`` in a child process and return it.

    A child process keeps the jsii/node runtime out of the long-running local stack, and lets the
    output directory be chosen through ``CDK_OUTDIR`` before ``aws_cdk`` is imported.
    """
    outdir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "CDK_OUTDIR": str(outdir.resolve()),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "20",
    }
    command = [sys.executable, "-m", "local_stack.synth", app, str(outdir.resolve())]
    for key, value in context.items():
        command += ["--context", f"{key}={value}"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise AssemblyError(f"synthesizing {app} failed:\n{result.stderr[-4000:]}")
    return outdir


@dataclass(frozen=True)
class Assembly:
    """One CloudFormation stack of a cloud assembly, with where its assets were staged."""

    directory: Path
    artifact_id: str
    stack_name: str
    template: dict[str, Any]
    region: str | None
    account: str | None

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.template.get("Resources", {})

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {key: value for key, value in self.resources.items() if value["Type"] == kind}

    def asset_dir(self, logical_id: str) -> Path:
        """The staged (bundled) directory of a function's code asset."""
        resource = self.resources[logical_id]
        path = resource.get("Metadata", {}).get("aws:asset:path")
        if path is None:
            path = self._asset_path_from_manifest(resource["Properties"].get("Code", {}))
        asset = Path(path) if Path(path).is_absolute() else self.directory / path
        if not asset.is_dir():
            raise AssemblyError(
                f"{logical_id}: asset {asset} is not a directory (zip assets are unsupported)"
            )
        return asset

    def _asset_path_from_manifest(self, code: dict[str, Any]) -> str:
        key = code.get("S3Key")
        manifest = self.directory / f"{self.artifact_id}.assets.json"
        if not isinstance(key, str) or not manifest.exists():
            raise AssemblyError(f"cannot locate the code asset {code!r}")
        files = json.loads(manifest.read_text()).get("files", {})
        entry = files.get(key.split(".")[0])
        if entry is None:
            raise AssemblyError(f"asset {key} is not in {manifest.name}")
        return entry["source"]["path"]


def load(directory: Path) -> Assembly:
    """Read the stack that defines a WebSocket API from the assembly in ``directory``."""
    directory = directory.resolve()  # workers start elsewhere: every path handed to them is absolute
    manifest = json.loads((directory / "manifest.json").read_text())
    for name, artifact in manifest.get("artifacts", {}).items():
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        template = json.loads((directory / artifact["properties"]["templateFile"]).read_text())
        kinds = {resource["Type"] for resource in template.get("Resources", {}).values()}
        if "AWS::ApiGatewayV2::Api" not in kinds:
            continue
        account, region = _environment(artifact.get("environment", ""))
        stack_name = artifact["properties"].get("stackName") or name
        return Assembly(directory, name, stack_name, template, region, account)
    raise AssemblyError(f"no stack with an AWS::ApiGatewayV2::Api in {directory}")


def _environment(value: str) -> tuple[str | None, str | None]:
    parts = value.removeprefix("aws://").split("/")
    if len(parts) != 2:
        return None, None
    account, region = parts
    return (None if account.startswith("unknown") else account), (
        None if region.startswith("unknown") else region
    )
