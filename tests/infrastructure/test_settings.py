"""Per-environment settings: cdk.json defines every environment, and bad values fail at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from stacks.app import build_app
from stacks.constants import ENV_NAMES
from stacks.settings import SettingsError, load_settings
from tests.infrastructure.conftest import ENVIRONMENTS, NO_BUNDLING, synthesize, with_setting
from tools.lint import lint_template


def test_cdk_json_defines_exactly_the_known_environments() -> None:
    assert tuple(ENVIRONMENTS) == ENV_NAMES
    for env_name in ENV_NAMES:
        assert load_settings(env_name, ENVIRONMENTS).env_name == env_name


def test_prod_protects_data_and_disallows_the_password_flow() -> None:
    prod, dev = load_settings("prod", ENVIRONMENTS), load_settings("dev", ENVIRONMENTS)
    assert prod.retain_data and prod.point_in_time_recovery and prod.deletion_protection
    assert not prod.allow_user_password_auth
    assert dev.allow_user_password_auth and not dev.retain_data


def test_unknown_environment_fails_listing_the_known_ones() -> None:
    with pytest.raises(
        SettingsError, match="unknown environment 'qa'; known environments: dev, staging, prod"
    ):
        build_app({"env": "qa", **NO_BUNDLING})


def test_unknown_bundling_mode_fails_listing_the_known_ones() -> None:
    with pytest.raises(SettingsError, match="known values: lambda, host"):
        build_app({"env": "dev", "bundling": "docker", **NO_BUNDLING})


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"retain_data": "yes"}, "retain_data must be true/false"),
        ({"throttle_burst_limit": 1.5}, "throttle_burst_limit must be an integer"),
        ({"send_burst": True}, "send_burst must be an integer"),
        ({"required_groups": "admins"}, "required_groups must be a list of strings"),
        ({"message_max_length": 5001}, "message_max_length must be between 1 and 5000"),
        ({"log_retention": "FOREVER-ISH"}, "log_retention must name"),
        ({"id_token_validity_minutes": 2}, "id_token_validity_minutes must be between 5 and 1440"),
        ({"account": "12345"}, "account must be 12 digits"),
        ({"alarm_email": "ops"}, "alarm_email must be an e-mail address"),
        ({"application_log_level": "VERBOSE"}, "application_log_level must be one of"),
        ({"create_room_burst": 0}, "create_room_rate_per_second must be > 0 and create_room_burst >= 1"),
        ({"reauth_rate_per_second": 0}, "reauth_rate_per_second must be > 0"),
        ({"typing_interval_seconds": 0}, "typing_interval_seconds must be between 0.1 and 60"),
        ({"max_rooms_per_user": 501}, "max_rooms_per_user must be between 1 and 500"),
        ({"colour": "blue"}, r"unknown keys \['colour'\]"),
        ({"broadcast_throttle_rate_limit": 500}, "broadcast_throttle_rate_limit must be > 0 and at most"),
        ({"broadcast_throttle_burst_limit": 0}, "broadcast_throttle_burst_limit must be >= 1"),
        ({"broadcast_reserved_concurrency": 0}, "broadcast_reserved_concurrency must be null or between 1"),
        ({"direct_reserved_concurrency": 901}, "direct_reserved_concurrency must be null or between 1"),
    ],
)
def test_invalid_settings_fail_naming_the_environment_and_the_key(changes: dict, message: str) -> None:
    with pytest.raises(SettingsError, match=f"environment 'staging'.*{message}"):
        load_settings("staging", with_setting("staging", **changes))


def test_missing_required_setting_is_named() -> None:
    entry = {k: v for k, v in ENVIRONMENTS["dev"].items() if k != "send_burst"}
    with pytest.raises(SettingsError, match=r"missing keys \['send_burst'\]"):
        load_settings("dev", {**ENVIRONMENTS, "dev": entry})


def test_settings_are_frozen() -> None:
    settings = load_settings("dev", ENVIRONMENTS)
    with pytest.raises(AttributeError):
        settings.retain_data = True  # type: ignore[misc]


def test_pinned_account_and_region_become_the_stack_environment(tmp_path: Path) -> None:
    environments = with_setting("staging", account="123456789012", region="eu-west-1")
    app = build_app({"env": "staging", "environments": environments, **NO_BUNDLING}, outdir=str(tmp_path))
    stack = app.node.find_child("Chat-staging")
    assert (stack.account, stack.region) == ("123456789012", "eu-west-1")


def test_opting_in_makes_the_stack_own_the_api_gateway_cloudwatch_role(tmp_path: Path) -> None:
    # Given an environment that opts in to managing the account-level API Gateway logging role
    synth = synthesize(
        "dev", tmp_path, environments=with_setting("dev", manage_api_gateway_account_role=True)
    )
    # Then the stack sets it, the stage waits for it, and the acknowledged finding keeps nag green
    (account_id, account), *others = synth.resources("AWS::ApiGateway::Account").items()
    assert not others
    role_id = account["Properties"]["CloudWatchRoleArn"]["Fn::GetAtt"][0]
    role = synth.raw["Resources"][role_id]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "apigateway.amazonaws.com"
    }
    (stage,) = synth.resources("AWS::ApiGatewayV2::Stage").values()
    assert account_id in stage["DependsOn"]
    assert synth.validation_report["pluginReports"][0]["violations"] == []


def test_every_optional_setting_on_still_passes_the_gates(tmp_path: Path) -> None:
    # Given prod with every optional setting in use
    environments = with_setting(
        "prod",
        account="123456789012",
        region="eu-west-1",
        alarm_email="oncall@example.com",
        required_groups=["chat-users", "staff"],
        manage_api_gateway_account_role=True,
    )
    synth = synthesize("prod", tmp_path, environments=environments)
    # Then cdk-nag and cfn-lint stay clean
    assert synth.validation_report["pluginReports"][0]["violations"] == []
    assert lint_template(tmp_path / "Chat-prod.template.json", ["eu-west-1"]) == []
    # And the settings reach the resources that use them
    synth.template.has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "oncall@example.com"}
    )
    for name in ("AuthorizerFunction", "DirectFunction"):
        function_id = synth.logical_id("AWS::Lambda::Function", f"/{name}/")
        variables = synth.raw["Resources"][function_id]["Properties"]["Environment"]["Variables"]
        assert variables["REQUIRED_GROUPS"] == "chat-users,staff"
        assert variables["COGNITO_REGION"] == "eu-west-1"


def test_all_problems_of_an_environment_are_reported_at_once() -> None:
    environments = with_setting("dev", send_burst=0, message_max_length=0)
    with pytest.raises(SettingsError, match=r"message_max_length must be .*; send_rate_per_second"):
        load_settings("dev", environments)
