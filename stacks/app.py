"""Builds the CDK app in-process: `app.py`, the tests and the local stack all call `build_app`."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from stacks.chat_stack import ChatStack
from stacks.constants import (
    APP_NAME,
    BUNDLING_LAMBDA,
    BUNDLING_MODES,
    CONTEXT_BOOTSTRAP_QUALIFIER,
    CONTEXT_BUNDLING,
    CONTEXT_DEPLOY_ACCESS,
    CONTEXT_DEPLOY_ACCESS_ENVIRONMENTS,
    CONTEXT_DEPLOY_ACCESS_OIDC_PROVIDER,
    CONTEXT_ENV,
    CONTEXT_ENVIRONMENTS,
    DEFAULT_ENV,
    DEPLOY_ACCESS_STACK_NAME,
    stack_name,
)
from stacks.deploy_access import DeployAccessStack, load_deploy_access
from stacks.settings import SettingsError, StackSettings, load_settings

CDK_JSON = Path(__file__).resolve().parent.parent / "cdk.json"
# What the CLI asks for by default; in-process apps (tests, the local stack) get the same template.
METADATA_DEFAULTS = {"aws:cdk:enable-asset-metadata": True, "aws:cdk:enable-path-metadata": True}


def build_app(context: Mapping[str, Any] | None = None, *, outdir: str | None = None) -> cdk.App:
    """The app with the stack of the chosen environment and the cdk-nag AwsSolutions checks.

    `context` (e.g. {"env": "prod", "bundling": "host"}) overrides the CLI's `-c` values, which
    override `cdk.json`. The `cdk.json` context is loaded here too, so an in-process app sees the
    same settings as `cdk synth`. Raises `SettingsError` for an unknown environment or bad settings.
    With `deploy_access` in the context, the app holds only `Chat-DeployAccess` (stacks/deploy_access.py).
    """
    defaults = {**_cdk_json_context(), **METADATA_DEFAULTS}
    app = cdk.App(context=defaults, post_cli_context=dict(context or {}), outdir=outdir)
    if _add_deploy_access(app):
        # `-c deploy_access=...` is a set-up app of its own: the deploy role, no environment to bundle.
        cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
        return app
    env_name = str(app.node.try_get_context(CONTEXT_ENV) or DEFAULT_ENV)
    settings = load_settings(env_name, app.node.try_get_context(CONTEXT_ENVIRONMENTS))
    bundling_mode = str(app.node.try_get_context(CONTEXT_BUNDLING) or BUNDLING_LAMBDA)
    if bundling_mode not in BUNDLING_MODES:
        raise SettingsError(f"unknown bundling {bundling_mode!r}; known values: {', '.join(BUNDLING_MODES)}")
    ChatStack(
        app,
        stack_name(settings.env_name),
        settings=settings,
        bundling_mode=bundling_mode,
        env=_deployment_target(settings),
        # Where data is protected from deletion, so is the stack (`cdk destroy` refuses).
        termination_protection=settings.deletion_protection,
        description=f"{APP_NAME} real-time chat backend ({settings.env_name})",
    )
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app


def _add_deploy_access(app: cdk.App) -> bool:
    """Adds `Chat-DeployAccess` when `-c deploy_access=<owner>/<repo>` asks for it; whether it did."""
    settings = load_deploy_access(
        app.node.try_get_context(CONTEXT_DEPLOY_ACCESS),
        app.node.try_get_context(CONTEXT_DEPLOY_ACCESS_ENVIRONMENTS),
        app.node.try_get_context(CONTEXT_DEPLOY_ACCESS_OIDC_PROVIDER),
    )
    if settings is None:
        return False
    DeployAccessStack(
        app,
        DEPLOY_ACCESS_STACK_NAME,
        settings=settings,
        bootstrap_qualifier=str(
            app.node.try_get_context(CONTEXT_BOOTSTRAP_QUALIFIER)
            or cdk.DefaultStackSynthesizer.DEFAULT_QUALIFIER
        ),
        env=cdk.Environment(
            account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION")
        ),
        description=f"{APP_NAME}: GitHub Actions OIDC deploy role",
    )
    return True


def _cdk_json_context() -> dict[str, Any]:
    return dict(json.loads(CDK_JSON.read_text()).get("context", {}))


def _deployment_target(settings: StackSettings) -> cdk.Environment:
    """The environment's own account/region when `cdk.json` pins them, else the CLI's defaults."""
    return cdk.Environment(
        account=settings.account or os.environ.get("CDK_DEFAULT_ACCOUNT"),
        region=settings.region or os.environ.get("CDK_DEFAULT_REGION"),
    )
