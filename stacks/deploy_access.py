"""`Chat-DeployAccess`: lets this repository's GitHub Actions deploy jobs deploy, with no stored keys.

One per account (docs/DEPLOY.md, "Deploying from GitHub Actions"). GitHub's OIDC provider, and one
role that only the deploy jobs of the named GitHub environments of one repository can assume
(`AssumeRoleWithWebIdentity`, audience `sts.amazonaws.com`, subject
`repo:<owner>/<repo>:environment:<env>`). The role may do one thing: assume the CDK bootstrap roles
`cdk diff` and `cdk deploy` use in this account and region. What a deploy may change is therefore
decided by the bootstrap (its CloudFormation execution role), not here.

Synthesized only when asked, and then alone: `cdk deploy -c deploy_access=<owner>/<repo>`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import CfnOutput, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks.constants import ENV_NAMES
from stacks.settings import SettingsError

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
STS_AUDIENCE = "sts.amazonaws.com"
# The bootstrap roles the CLI assumes for `cdk diff` (lookup, deploy) and `cdk deploy` (deploy, and
# file-publishing for the Lambda code). No image-publishing role: the app has no Docker assets.
BOOTSTRAP_ROLES = ("deploy", "file-publishing", "lookup")
OIDC_PROVIDER_MODES = ("create", "existing")
# `owner/repo`, or GitHub's immutable form `owner@<org id>/repo@<repo id>` (repositories created from
# 15 July 2026 on, and those that opted in, put that form in the token's `sub`).
_REPOSITORY = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:@\d+)?/[A-Za-z0-9._-]{1,100}(?:@\d+)?$")


@dataclass(frozen=True)
class DeployAccessSettings:
    """Who may deploy: one repository, some of its GitHub environments; and the OIDC provider."""

    repository: str
    environments: tuple[str, ...]
    create_oidc_provider: bool

    def subjects(self) -> list[str]:
        """The token subjects GitHub gives a job that runs in each of these environments."""
        return [f"repo:{self.repository}:environment:{env_name}" for env_name in self.environments]


def load_deploy_access(repository: Any, environments: Any, oidc_provider: Any) -> DeployAccessSettings | None:
    """The settings from the `deploy_access*` context values, or None when `deploy_access` is unset.

    `environments` is a list or a comma-separated string (default: every environment);
    `oidc_provider` is `create` (default) or `existing` (the account already has GitHub's provider).
    """
    if repository is None:
        return None
    if not isinstance(repository, str) or not _REPOSITORY.match(repository):
        raise SettingsError(f"deploy_access must be a GitHub repository 'owner/repo', got {repository!r}")
    names = _names(environments) if environments is not None else list(ENV_NAMES)
    unknown = [name for name in names if name not in ENV_NAMES]
    if unknown or not names:
        raise SettingsError(
            f"deploy_access_environments must name some of {', '.join(ENV_NAMES)}, got {environments!r}"
        )
    mode = "create" if oidc_provider is None else oidc_provider
    if mode not in OIDC_PROVIDER_MODES:
        known = ", ".join(OIDC_PROVIDER_MODES)
        raise SettingsError(f"deploy_access_oidc_provider must be one of {known}, got {oidc_provider!r}")
    return DeployAccessSettings(repository, tuple(dict.fromkeys(names)), mode == "create")


def _names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [name.strip() for name in value.split(",") if name.strip()]
    if isinstance(value, Sequence) and all(isinstance(name, str) for name in value):
        return list(value)
    raise SettingsError(f"deploy_access_environments must be a list or comma-separated names, got {value!r}")


class DeployAccessStack(Stack):
    """GitHub's OIDC provider (or the account's existing one) and the deploy role."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        settings: DeployAccessSettings,
        bootstrap_qualifier: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id_, **kwargs)
        if settings.create_oidc_provider:
            # Retained: the provider is account-wide, and other roles may come to trust it.
            provider_arn = iam.OidcProviderNative(
                self,
                "GitHubOidcProvider",
                url=f"https://{GITHUB_OIDC_HOST}",
                client_ids=[STS_AUDIENCE],
                removal_policy=RemovalPolicy.RETAIN,
            ).oidc_provider_arn
        else:
            provider_arn = f"arn:{self.partition}:iam::{self.account}:oidc-provider/{GITHUB_OIDC_HOST}"
        trusted = iam.WebIdentityPrincipal(
            provider_arn,
            conditions={
                "StringEquals": {
                    f"{GITHUB_OIDC_HOST}:aud": STS_AUDIENCE,
                    f"{GITHUB_OIDC_HOST}:sub": settings.subjects(),
                }
            },
        )
        bootstrap_roles = [
            f"arn:{self.partition}:iam::{self.account}:role/"
            f"cdk-{bootstrap_qualifier}-{kind}-role-{self.account}-{self.region}"
            for kind in BOOTSTRAP_ROLES
        ]
        self.role = iam.Role(
            self,
            "DeployRole",
            assumed_by=trusted,
            description=f"GitHub Actions deploys of {settings.repository}",
            inline_policies={
                "AssumeCdkBootstrapRoles": iam.PolicyDocument(
                    statements=[iam.PolicyStatement(actions=["sts:AssumeRole"], resources=bootstrap_roles)]
                )
            },
        )
        CfnOutput(
            self,
            "DeployRoleArn",
            value=self.role.role_arn,
            description="the AWS_DEPLOY_ROLE_ARN secret of each GitHub environment that deploys here",
        )
