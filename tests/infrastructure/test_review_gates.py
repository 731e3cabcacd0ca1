"""Review gates: cdk-nag AwsSolutions and cfn-lint over every environment, and their acknowledgments."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from aws_cdk import App, Validations
from aws_cdk import aws_iam as iam

from stacks.app import build_app
from stacks.constants import stack_name
from stacks.nag import PLUGIN
from tests.infrastructure.conftest import NO_BUNDLING, Synth, with_setting
from tools.lint import DEFAULT_LINT_REGIONS, lint_template, synth_template


def test_cdk_nag_aws_solutions_ran_and_found_nothing_unacknowledged(each_env: Synth) -> None:
    reports = {r["pluginName"]: r for r in each_env.validation_report["pluginReports"]}
    assert PLUGIN in reports, "the AwsSolutions checks did not run"
    report = reports[PLUGIN]
    assert report["violations"] == []
    assert report["conclusion"] == "success"


def test_cdk_nag_fails_the_synth_on_a_new_finding(tmp_path: Path) -> None:
    # Given the dev app with one wildcard statement that nobody acknowledged
    app = build_app({"env": "dev", **NO_BUNDLING}, outdir=str(tmp_path))
    stack = app.node.find_child(stack_name("dev"))
    role = iam.Role(stack, "Careless", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    role.add_to_policy(iam.PolicyStatement(actions=["dynamodb:*"], resources=["*"]))
    # When it synthesizes, then the synth fails and the report names the finding
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = (tmp_path / "validation-report.json").read_text()
    assert "AwsSolutions-IAM5[Action::dynamodb:*]" in report


def acknowledgments(app: App) -> list[tuple[str, str, str]]:
    """(construct path, rule id, reason) of every acknowledgment in the app."""
    found = []
    for construct in app.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                found += [(construct.node.path, rule, reason) for rule, reason in entry.data.items()]
    return found


@pytest.mark.parametrize("env_name", ["dev", "prod"])
def test_every_acknowledgment_names_one_finding_on_one_resource_with_a_reason(env_name: str) -> None:
    app = build_app({"env": env_name, **NO_BUNDLING})
    found = acknowledgments(app)
    assert found
    stack_path = stack_name(env_name)
    for path, rule, reason in found:
        assert rule.startswith(f"{PLUGIN}::{PLUGIN}-"), rule
        assert path.startswith(f"{stack_path}/"), f"{rule} is acknowledged for a whole stack or app"
        if "IAM5" in rule or "IAM4" in rule:
            assert "[" in rule, f"{rule} acknowledges a whole rule where one finding will do"
        assert len(reason) >= 80, f"{rule} on {path}: the reason is too thin for a reviewer"


@pytest.mark.parametrize("env_name", ["dev", "prod"])
def test_every_acknowledgment_suppresses_a_finding_the_checks_made(
    env_name: str, synth_env: Callable[[str], Synth]
) -> None:
    """An acknowledgment of a finding the checks never make is noise to a reviewer, and would hide
    that finding if the resource changed so that it applied (e.g. SQS3 on a queue that is a
    dead-letter queue, which cdk-nag already accepts)."""
    report = {r["pluginName"]: r for r in synth_env(env_name).validation_report["pluginReports"]}[PLUGIN]
    suppressed = [
        (f"{PLUGIN}::{finding['ruleName']}", construct["constructPath"])
        for finding in report["suppressedViolations"]
        for construct in finding["violatingConstructs"]
    ]
    for path, rule, _ in acknowledgments(build_app({"env": env_name, **NO_BUNDLING})):
        assert any(
            found == rule and (where == path or where.startswith(f"{path}/")) for found, where in suppressed
        ), f"{rule} on {path} suppresses no finding: remove it"


def test_cfn_lint_finds_no_errors(each_env: Synth) -> None:
    template = each_env.outdir / f"{stack_name(each_env.env_name)}.template.json"
    assert lint_template(template, DEFAULT_LINT_REGIONS) == []


def test_lint_synthesizes_a_pinned_environment_for_its_own_region(tmp_path: Path) -> None:
    environments = with_setting("prod", region="eu-central-1")
    template, regions = synth_template("prod", tmp_path, environments=environments)
    assert regions == ("eu-central-1",)
    assert lint_template(template, regions) == []


def test_cfn_lint_gate_reports_errors(tmp_path: Path) -> None:
    # Given a template with a function that has no runtime, handler or code
    template = tmp_path / "broken.template.json"
    template.write_text(
        '{"Resources": {"Fn": {"Type": "AWS::Lambda::Function", "Properties": {"Role": "arn"}}}}'
    )
    # Then the gate reports it
    assert [m.rule.id for m in lint_template(template, ["us-east-1"])]
