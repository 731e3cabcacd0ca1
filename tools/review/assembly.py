"""Reads what the review compares out of a synthesized cloud assembly: templates and acknowledgments."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STACK_ARTIFACT = "aws:cloudformation:stack"
NESTED_ASSEMBLY_ARTIFACT = "cdk:cloud-assembly"
# Where `Validations.of(scope).acknowledge(...)` (stacks/nag.py) records an acknowledgment: construct
# metadata of this type, written to the stack's metadata in the assembly, `{rule id: reason}`.
ACKNOWLEDGED_RULES = "aws:cdk:acknowledged-rules"


class AssemblyError(RuntimeError):
    """The directory is not a readable cloud assembly."""


@dataclass(frozen=True, order=True)
class Acknowledgment:
    """One acknowledged policy-validation rule on one construct."""

    path: str  # construct path, e.g. "Chat-dev/Database/Table"
    rule: str  # e.g. "AwsSolutions-DDB3" (the plugin's "AwsSolutions::" prefix dropped)
    reason: str


@dataclass(frozen=True)
class StackSnapshot:
    """One synthesized stack as the review sees it."""

    name: str
    template: dict[str, Any]
    acknowledgments: frozenset[Acknowledgment]


def read_assembly(directory: Path) -> dict[str, StackSnapshot]:
    """Every stack of the assembly in `directory` (nested assemblies included), by stack name."""
    manifest = _read_json(directory / "manifest.json")
    stacks: dict[str, StackSnapshot] = {}
    for artifact_id, artifact in manifest.get("artifacts", {}).items():
        properties = artifact.get("properties", {})
        if artifact.get("type") == NESTED_ASSEMBLY_ARTIFACT:
            stacks.update(read_assembly(directory / properties["directoryName"]))
        elif artifact.get("type") == STACK_ARTIFACT:
            name = properties.get("stackName") or artifact.get("displayName") or artifact_id
            template = _read_json(directory / properties["templateFile"])
            metadata = dict(artifact.get("metadata", {}))
            if "additionalMetadataFile" in artifact:
                metadata.update(_read_json(directory / artifact["additionalMetadataFile"]))
            stacks[name] = StackSnapshot(name, template, _acknowledgments(metadata))
    return stacks


def _acknowledgments(metadata: dict[str, list[dict[str, Any]]]) -> frozenset[Acknowledgment]:
    found = set()
    for path, entries in metadata.items():
        for entry in entries:
            if entry.get("type") != ACKNOWLEDGED_RULES:
                continue
            for rule, reason in entry.get("data", {}).items():
                found.add(Acknowledgment(path.lstrip("/"), rule.split("::", 1)[-1], str(reason)))
    return frozenset(found)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError as error:
        raise AssemblyError(f"{path} does not exist: not a synthesized cloud assembly") from error
    except (OSError, json.JSONDecodeError) as error:
        raise AssemblyError(f"{path}: {error}") from error
