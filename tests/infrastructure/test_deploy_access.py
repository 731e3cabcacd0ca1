"""The optional `Chat-DeployAccess` stack: GitHub OIDC, one role, and nothing but the bootstrap roles."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import assertions
from aws_cdk import aws_iam as iam

from stacks.app import build_app
from stacks.constants import DEPLOY_ACCESS_STACK_NAME, stack_name
from stacks.settings import SettingsError
from tests.infrastructure.conftest import NO_BUNDLING
from tools.lint import DEFAULT_LINT_REGIONS, lint_template

REPOSITORY = "octo-org@4242/chat@777"  # GitHub's immutable subject form
OIDC_HOST = "token.actions.githubusercontent.com"


def synth(tmp_path: Path, **context: Any) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """(DeployAccess template, validation report, stack names) of the dev app with `context`."""
    app = build_app({"env": "dev", **NO_BUNDLING, **context}, outdir=str(tmp_path))
    assembly = app.synth()
    template = json.loads((tmp_path / f"{DEPLOY_ACCESS_STACK_NAME}.template.json").read_text())
    report = json.loads((tmp_path / "validation-report.json").read_text())
    return template, report, [stack.stack_name for stack in assembly.stacks]


@pytest.fixture(scope="module")
def created(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    return synth(tmp_path_factory.mktemp("deploy-access"), deploy_access=REPOSITORY)


def partition_arn(suffix: list[Any]) -> dict[str, Any]:
    return {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, *suffix]]}


def bootstrap_role(kind: str) -> dict[str, Any]:
    account = {"Ref": "AWS::AccountId"}
    return partition_arn(
        [":iam::", account, f":role/cdk-hnb659fds-{kind}-role-", account, "-", {"Ref": "AWS::Region"}]
    )


def test_not_synthesized_unless_asked(tmp_path: Path) -> None:
    assembly = build_app({"env": "dev", **NO_BUNDLING}, outdir=str(tmp_path)).synth()
    assert [stack.stack_name for stack in assembly.stacks] == [stack_name("dev")]


def test_synthesized_alone_when_asked(created: Any) -> None:
    # No environment stack: `cdk deploy` needs no stack name and bundles no Lambda code.
    _, _, names = created
    assert names == [DEPLOY_ACCESS_STACK_NAME]


def test_github_oidc_provider_for_sts_audience_retained(created: Any) -> None:
    template = assertions.Template.from_json(created[0])
    template.resource_count_is("AWS::IAM::OIDCProvider", 1)
    template.has_resource(
        "AWS::IAM::OIDCProvider",
        {
            "Properties": {"Url": f"https://{OIDC_HOST}", "ClientIdList": ["sts.amazonaws.com"]},
            "DeletionPolicy": "Retain",
        },
    )


def test_only_the_repositorys_deploy_environments_may_assume_the_role(created: Any) -> None:
    template = assertions.Template.from_json(created[0])
    (provider,) = template.find_resources("AWS::IAM::OIDCProvider")
    (role,) = template.find_resources("AWS::IAM::Role").values()
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    f"{OIDC_HOST}:aud": "sts.amazonaws.com",
                    f"{OIDC_HOST}:sub": [
                        f"repo:{REPOSITORY}:environment:{env}" for env in ("dev", "staging", "prod")
                    ],
                }
            },
            "Effect": "Allow",
            "Principal": {"Federated": {"Ref": provider}},
        }
    ]


def test_the_role_may_only_assume_the_cdk_bootstrap_roles(created: Any) -> None:
    template = assertions.Template.from_json(created[0])
    (role,) = template.find_resources("AWS::IAM::Role").values()
    assert role["Properties"]["Policies"] == [
        {
            "PolicyName": "AssumeCdkBootstrapRoles",
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Action": "sts:AssumeRole",
                        "Effect": "Allow",
                        "Resource": [
                            bootstrap_role(kind) for kind in ("deploy", "file-publishing", "lookup")
                        ],
                    }
                ],
            },
        }
    ]
    assert "ManagedPolicyArns" not in role["Properties"]
    for kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::User", "AWS::IAM::AccessKey"):
        template.resource_count_is(kind, 0)


def test_the_role_arn_is_an_output(created: Any) -> None:
    template = assertions.Template.from_json(created[0])
    (role,) = template.find_resources("AWS::IAM::Role")
    template.has_output("DeployRoleArn", {"Value": {"Fn::GetAtt": [role, "Arn"]}})


def test_clean_under_cdk_nag_and_cfn_lint(created: Any, tmp_path: Path) -> None:
    template, report, _ = created
    # cdk-nag reports a plugin only when it found or suppressed something; this stack needs neither.
    assert [r for r in report["pluginReports"] if r["violations"] or r["conclusion"] != "success"] == []
    path = tmp_path / "deploy-access.template.json"
    path.write_text(json.dumps(template))
    assert lint_template(path, DEFAULT_LINT_REGIONS) == []


def test_cdk_nag_checks_this_stack_too(tmp_path: Path) -> None:
    # Given the deploy role with one wildcard statement more
    app = build_app({"deploy_access": REPOSITORY}, outdir=str(tmp_path))
    stack = app.node.find_child(DEPLOY_ACCESS_STACK_NAME)
    stack.role.add_to_policy(iam.PolicyStatement(actions=["iam:*"], resources=["*"]))
    # Then the synth fails on it
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    assert "AwsSolutions-IAM5[Action::iam:*]" in (tmp_path / "validation-report.json").read_text()


def test_chosen_environments_an_existing_provider_and_a_custom_bootstrap_qualifier(tmp_path: Path) -> None:
    template, _, _ = synth(
        tmp_path,
        deploy_access="octo-org/chat",
        deploy_access_environments="staging, prod",
        deploy_access_oidc_provider="existing",
        **{"@aws-cdk/core:bootstrapQualifier": "chat2026"},
    )
    assertions.Template.from_json(template).resource_count_is("AWS::IAM::OIDCProvider", 0)
    (role,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Role"]
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"]["Federated"] == partition_arn(
        [":iam::", {"Ref": "AWS::AccountId"}, f":oidc-provider/{OIDC_HOST}"]
    )
    assert trust["Condition"]["StringEquals"][f"{OIDC_HOST}:sub"] == [
        "repo:octo-org/chat:environment:staging",
        "repo:octo-org/chat:environment:prod",
    ]
    resources = json.dumps(role["Properties"]["Policies"])
    assert resources.count(":role/cdk-chat2026-") == 3
    assert "hnb659fds" not in resources


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"deploy_access": "chat"}, "deploy_access must be a GitHub repository 'owner/repo', got 'chat'"),
        ({"deploy_access": "octo-org/chat:environment:prod"}, "deploy_access must be a GitHub repository"),
        (
            {"deploy_access": "octo-org/chat", "deploy_access_environments": "qa"},
            "deploy_access_environments must name some of dev, staging, prod, got 'qa'",
        ),
        ({"deploy_access": "octo-org/chat", "deploy_access_environments": ""}, "deploy_access_environments"),
        (
            {"deploy_access": "octo-org/chat", "deploy_access_oidc_provider": "import"},
            "deploy_access_oidc_provider must be one of create, existing, got 'import'",
        ),
    ],
)
def test_bad_settings_fail_the_synth_naming_the_key(context: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        build_app({"env": "dev", **NO_BUNDLING, **context})
