"""Synthesizes each environment once per run (a synth costs seconds) for the infrastructure tests."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import assertions

from stacks.app import build_app
from stacks.constants import ENV_NAMES, stack_name
from stacks.settings import StackSettings, load_settings
from tests.support.once import once_per_run

# Assets are not bundled here: these tests read the template (tests/infrastructure/test_bundling.py
# bundles for real).
NO_BUNDLING = {"aws:cdk:bundling-stacks": []}
ENVIRONMENTS: dict[str, Any] = json.loads((Path(__file__).parents[2] / "cdk.json").read_text())["context"][
    "environments"
]


def with_setting(env_name: str, **changes: Any) -> dict[str, Any]:
    """The `environments` context of cdk.json with some settings of one environment changed."""
    return {**ENVIRONMENTS, env_name: {**ENVIRONMENTS[env_name], **changes}}


@dataclass(frozen=True)
class Synth:
    """One environment's synthesized stack: the template (raw and as `assertions.Template`) and more."""

    env_name: str
    settings: StackSettings
    outdir: Path
    raw: dict[str, Any]
    template: assertions.Template
    validation_report: dict[str, Any]

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        """Logical id -> resource of one CloudFormation type."""
        return {k: v for k, v in self.raw["Resources"].items() if v["Type"] == resource_type}

    def logical_id(self, resource_type: str, path_part: str) -> str:
        """The one resource of `resource_type` whose construct path contains `path_part`."""
        found = [
            k
            for k, v in self.resources(resource_type).items()
            if path_part in v.get("Metadata", {}).get("aws:cdk:path", k)
        ]
        assert len(found) == 1, f"{resource_type} {path_part}: {found}"
        return found[0]


def synthesize(env_name: str, outdir: Path, **context: Any) -> Synth:
    app = build_app({"env": env_name, **NO_BUNDLING, **context}, outdir=str(outdir))
    app.synth()
    return read_synth(env_name, outdir, context.get("environments", ENVIRONMENTS))


def read_synth(env_name: str, outdir: Path, environments: dict[str, Any] = ENVIRONMENTS) -> Synth:
    """The stack that `synthesize` wrote into `outdir`."""
    name = stack_name(env_name)
    raw = json.loads((outdir / f"{name}.template.json").read_text())
    return Synth(
        env_name=env_name,
        settings=load_settings(env_name, environments),
        outdir=outdir,
        raw=raw,
        template=assertions.Template.from_json(raw),
        validation_report=json.loads((outdir / "validation-report.json").read_text()),
    )


@pytest.fixture(scope="session")
def synth_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], Synth]]:
    """`synth_env("prod")`: the run's one synth of that environment (shared by the xdist workers)."""
    cache: dict[str, Synth] = {}

    def get(env_name: str) -> Synth:
        if env_name not in cache:
            outdir = once_per_run(tmp_path_factory, f"synth-{env_name}", lambda d: synthesize(env_name, d))
            cache[env_name] = read_synth(env_name, outdir)
        return cache[env_name]

    yield get


@pytest.fixture(params=ENV_NAMES)
def each_env(request: pytest.FixtureRequest, synth_env: Callable[[str], Synth]) -> Synth:
    """Parametrizes a test over dev, staging and prod."""
    return synth_env(request.param)


@pytest.fixture
def dev(synth_env: Callable[[str], Synth]) -> Synth:
    return synth_env("dev")


@pytest.fixture
def prod(synth_env: Callable[[str], Synth]) -> Synth:
    return synth_env("prod")
