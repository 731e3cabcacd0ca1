"""Managed login (authorization code + PKCE) for the web page: off unless an environment sets a domain."""

from __future__ import annotations

from pathlib import Path

import pytest

from stacks.settings import SettingsError, load_settings
from tests.infrastructure.conftest import Synth, synthesize, with_setting
from tools.lint import lint_template
from tools.outputs import flatten

PAGE = "https://chat.example.com/"
MANAGED_LOGIN = {
    "managed_login_domain_prefix": "example-chat-staging",
    "managed_login_callback_urls": [PAGE, "http://localhost:3005/"],
    "managed_login_logout_urls": [PAGE],
}


@pytest.fixture(scope="module")
def staging_with_managed_login(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    outdir = tmp_path_factory.mktemp("synth-managed-login")
    return synthesize("staging", outdir, environments=with_setting("staging", **MANAGED_LOGIN))


def test_no_environment_has_a_domain_or_oauth_unless_it_sets_one(each_env: Synth) -> None:
    assert each_env.resources("AWS::Cognito::UserPoolDomain") == {}
    assert each_env.resources("AWS::Cognito::ManagedLoginBranding") == {}
    (client,) = each_env.resources("AWS::Cognito::UserPoolClient").values()
    assert client["Properties"]["AllowedOAuthFlowsUserPoolClient"] is False
    assert "ManagedLoginUrl" not in each_env.raw["Outputs"]


def test_a_domain_prefix_adds_managed_login_and_the_code_flow_to_the_listed_urls(
    staging_with_managed_login: Synth,
) -> None:
    synth = staging_with_managed_login
    (domain,) = synth.resources("AWS::Cognito::UserPoolDomain").values()
    assert domain["Properties"]["Domain"] == "example-chat-staging"
    assert domain["Properties"]["ManagedLoginVersion"] == 2
    (branding,) = synth.resources("AWS::Cognito::ManagedLoginBranding").values()
    assert branding["Properties"]["UseCognitoProvidedValues"] is True
    (client_id, client), *_ = synth.resources("AWS::Cognito::UserPoolClient").items()
    assert branding["Properties"]["ClientId"] == {"Ref": client_id}
    properties = client["Properties"]
    # A public client (no secret) on the authorization-code flow only: the page must use PKCE
    assert properties["GenerateSecret"] is False
    assert properties["AllowedOAuthFlowsUserPoolClient"] is True
    assert properties["AllowedOAuthFlows"] == ["code"]
    assert set(properties["AllowedOAuthScopes"]) == {"openid", "email", "profile"}
    assert properties["CallbackURLs"] == [PAGE, "http://localhost:3005/"]
    assert properties["LogoutURLs"] == [PAGE]
    assert properties["SupportedIdentityProviders"] == ["COGNITO"]
    # The page finds the domain in the outputs
    output = synth.raw["Outputs"]["ManagedLoginUrl"]["Value"]
    assert output["Fn::Join"][1][0] == "https://"
    assert {"Ref": synth.logical_id("AWS::Cognito::UserPoolDomain", "ManagedLoginDomain")} in output[
        "Fn::Join"
    ][1]


def test_managed_login_keeps_cdk_nag_and_cfn_lint_clean(staging_with_managed_login: Synth) -> None:
    synth = staging_with_managed_login
    assert synth.validation_report["pluginReports"][0]["violations"] == []
    assert lint_template(synth.outdir / "Chat-staging.template.json", ["eu-west-1", "us-east-1"]) == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"managed_login_domain_prefix": "Chat_Dev"}, "managed_login_domain_prefix must be"),
        ({"managed_login_domain_prefix": "my-cognito-chat"}, "without aws, amazon or cognito"),
        ({"managed_login_domain_prefix": "-chat"}, "managed_login_domain_prefix must be"),
        ({"managed_login_callback_urls": None}, "managed_login_callback_urls must list"),
        ({"managed_login_callback_urls": ["http://chat.example.com/"]}, "must be https://"),
        ({"managed_login_logout_urls": ["https://chat.example.com/#signed-out"]}, "without #"),
        ({"managed_login_callback_urls": "https://chat.example.com/"}, "must be a list of strings"),
    ],
)
def test_invalid_managed_login_settings_are_named(changes: dict, message: str) -> None:
    with pytest.raises(SettingsError, match=f"environment 'staging'.*{message}"):
        load_settings("staging", with_setting("staging", **{**MANAGED_LOGIN, **changes}))


def test_redirect_urls_without_a_domain_are_refused() -> None:
    with pytest.raises(SettingsError, match="need managed_login_domain_prefix"):
        load_settings("dev", with_setting("dev", managed_login_callback_urls=[PAGE]))


def test_deploy_outputs_keep_the_managed_login_url(tmp_path: Path) -> None:
    raw = {
        "Chat-staging": {
            "Region": "eu-west-1",
            "UserPoolId": "eu-west-1_abc",
            "UserPoolClientId": "client",
            "WebSocketUrl": "wss://api.example.com/staging",
            "ManagedLoginUrl": "https://example-chat-staging.auth.eu-west-1.amazoncognito.com",
            "SomethingElse": "dropped",
        }
    }
    flat = flatten(raw)
    assert flat["ManagedLoginUrl"] == "https://example-chat-staging.auth.eu-west-1.amazoncognito.com"
    assert "SomethingElse" not in flat
