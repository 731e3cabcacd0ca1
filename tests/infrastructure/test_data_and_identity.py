"""The table and the user pool: keys, TTL, encryption, per-environment protection, sign-in rules."""

from __future__ import annotations

import json

from aws_cdk.assertions import Match
from chat.dal import keys

from tests.infrastructure.conftest import Synth


def test_table_has_string_keys_ttl_encryption_on_demand_billing_and_the_online_index(each_env: Synth) -> None:
    each_env.template.resource_count_is("AWS::DynamoDB::Table", 1)
    each_env.template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "KeySchema": [
                {"AttributeName": "PK", "KeyType": "HASH"},
                {"AttributeName": "SK", "KeyType": "RANGE"},
            ],
            "AttributeDefinitions": Match.array_equals(
                [
                    {"AttributeName": "PK", "AttributeType": "S"},
                    {"AttributeName": "SK", "AttributeType": "S"},
                    {"AttributeName": keys.ONLINE_KEY, "AttributeType": "S"},
                ]
            ),
            "BillingMode": "PAY_PER_REQUEST",
            "TimeToLiveSpecification": {"AttributeName": "ttl", "Enabled": True},
            "SSESpecification": {"SSEEnabled": True},
            # The one index: named as the code that reads it names it (chat.dal.keys), keyed by the
            # attribute the code writes, projecting what the fan-out reads (and nothing else).
            "GlobalSecondaryIndexes": [
                {
                    "IndexName": keys.ONLINE_INDEX,
                    "KeySchema": [
                        {"AttributeName": keys.ONLINE_KEY, "KeyType": "HASH"},
                        {"AttributeName": "SK", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["userId", "conns"]},
                }
            ],
        },
    )


def test_prod_retains_data_with_pitr_and_deletion_protection(prod: Synth) -> None:
    prod.template.has_resource(
        "AWS::DynamoDB::Table",
        {
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": Match.object_like(
                {
                    "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                    "DeletionProtectionEnabled": True,
                }
            ),
        },
    )
    prod.template.has_resource(
        "AWS::Cognito::UserPool",
        {"DeletionPolicy": "Retain", "Properties": Match.object_like({"DeletionProtection": "ACTIVE"})},
    )
    for resource_type in ("AWS::Logs::LogGroup", "AWS::KMS::Key"):
        assert {r["DeletionPolicy"] for r in prod.resources(resource_type).values()} == {"Retain"}


def test_only_prod_has_stack_termination_protection(each_env: Synth) -> None:
    manifest = json.loads((each_env.outdir / "manifest.json").read_text())
    properties = manifest["artifacts"][f"Chat-{each_env.env_name}"]["properties"]
    assert properties.get("terminationProtection", False) is (each_env.env_name == "prod")


def test_dev_data_is_disposable(dev: Synth) -> None:
    for resource_type in ("AWS::Logs::LogGroup", "AWS::KMS::Key", "AWS::Cognito::UserPool"):
        assert {r["DeletionPolicy"] for r in dev.resources(resource_type).values()} == {"Delete"}
    dev.template.has_resource(
        "AWS::DynamoDB::Table",
        {
            "DeletionPolicy": "Delete",
            "Properties": Match.object_like(
                {"PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": False}}
            ),
        },
    )


def test_user_pool_signs_in_by_verified_email_with_a_strong_password(each_env: Synth) -> None:
    each_env.template.has_resource_properties(
        "AWS::Cognito::UserPool",
        {
            "UsernameAttributes": ["email"],
            "AutoVerifiedAttributes": ["email"],
            "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": False},
            "Policies": {
                "PasswordPolicy": Match.object_like(
                    {
                        "MinimumLength": Match.any_value(),
                        "RequireLowercase": True,
                        "RequireUppercase": True,
                        "RequireNumbers": True,
                        "RequireSymbols": True,
                    }
                )
            },
        },
    )
    (pool,) = each_env.resources("AWS::Cognito::UserPool").values()
    assert pool["Properties"]["Policies"]["PasswordPolicy"]["MinimumLength"] >= 8


def test_spa_client_has_no_secret_prevents_user_existence_errors_and_revokes_tokens(each_env: Synth) -> None:
    minutes = each_env.settings.id_token_validity_minutes
    each_env.template.has_resource_properties(
        "AWS::Cognito::UserPoolClient",
        {
            "GenerateSecret": False,
            "PreventUserExistenceErrors": "ENABLED",
            "EnableTokenRevocation": True,
            "IdTokenValidity": minutes,
            "RefreshTokenValidity": each_env.settings.refresh_token_validity_days * 1440,
            "AllowedOAuthFlowsUserPoolClient": False,
        },
    )


def test_user_password_flow_is_allowed_in_dev_only(each_env: Synth) -> None:
    (client,) = each_env.resources("AWS::Cognito::UserPoolClient").values()
    flows = set(client["Properties"]["ExplicitAuthFlows"])
    assert {"ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"} <= flows
    assert ("ALLOW_USER_PASSWORD_AUTH" in flows) is (each_env.env_name == "dev")
    assert "ALLOW_ADMIN_USER_PASSWORD_AUTH" not in flows
