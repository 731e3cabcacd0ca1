"""Lambda functions: handlers, runtime, architecture, logging, environment and least-privilege roles."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Match
from chat.dal import keys

from stacks.functions import FANOUT_RETRY_DELAY_SECONDS
from tests.infrastructure.conftest import Synth

HANDLERS = {
    "AuthorizerFunction": "handler.lambda_handler",
    "LifecycleFunction": "chat.handlers.lifecycle.handler",
    "DirectFunction": "chat.handlers.direct.handler",
    "BroadcastFunction": "chat.handlers.broadcast.handler",
    "FanoutFunction": "chat.handlers.fanout.handler",
}
POWERTOOLS = {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE"}
VERIFIER = {"USER_POOL_ID", "USER_POOL_CLIENT_IDS", "COGNITO_REGION", "TOKEN_LEEWAY_SECONDS"}
ROOMS = {"TABLE_NAME", "MESSAGE_MAX_LENGTH", "MAX_ROOM_MEMBERS", "MAX_CONNECTIONS_PER_USER"}
ROOMS |= {"PRESENCE_MAX_MEMBERS"}
# BroadcastFunction's per-connection buckets (docs/PROTOCOL.md, "Rate limits").
FLOODS = ("SEND", "EDIT_MESSAGE", "DELETE_MESSAGE", "CREATE_ROOM", "JOIN_ROOM", "LEAVE_ROOM", "MARK_READ")
ENVIRONMENT = {
    "AuthorizerFunction": VERIFIER | POWERTOOLS,
    "LifecycleFunction": ROOMS | {"FANOUT_FUNCTION_NAME"} | POWERTOOLS,
    "DirectFunction": ROOMS | VERIFIER | {"REAUTH_RATE_PER_SECOND", "REAUTH_BURST"} | POWERTOOLS,
    "BroadcastFunction": ROOMS
    | {f"{action}_{kind}" for action in FLOODS for kind in ("RATE_PER_SECOND", "BURST")}
    | {"TYPING_INTERVAL_SECONDS", "MAX_ROOMS_PER_USER", "REQUIRE_VERIFIED_SENDER"}
    | {"FANOUT_FUNCTION_NAME"}
    # the FIFO queue it sends a room's ordered jobs to (a message group per room)
    | {"FANOUT_QUEUE_URL"}
    | POWERTOOLS,
    "FanoutFunction": ROOMS
    | {"FANOUT_BATCH_SIZE", "SESSION_GRACE_SECONDS", "CONNECTIONS_ENDPOINT"}
    # the same queue, whose failed records it makes visible again after the retry delay
    | {"FANOUT_QUEUE_URL", "FANOUT_RETRY_DELAY_SECONDS"}
    | POWERTOOLS,
}
ALLOWED_TABLE_ACTIONS = {
    "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:PutItem",
    "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem", "dynamodb:BatchWriteItem",
}  # fmt: skip
DAL = Path(__file__).parents[2] / "lambdas" / "chat" / "dal"
# boto3 calls and transaction item kinds -> the IAM action DynamoDB checks for them.
DAL_CALLS = {
    r"\.get_item\(": "dynamodb:GetItem",
    r"\.transact_get_items\(": "dynamodb:GetItem",
    r"\.batch_get_item\(": "dynamodb:BatchGetItem",
    r"\.query\(": "dynamodb:Query",
    r"\.scan\(": "dynamodb:Scan",
    r"\.put_item\(|[\"']Put[\"']\s*:": "dynamodb:PutItem",
    r"\.update_item\(|[\"']Update[\"']\s*:": "dynamodb:UpdateItem",
    r"\.delete_item\(|[\"']Delete[\"']\s*:": "dynamodb:DeleteItem",
    r"[\"']ConditionCheck[\"']\s*:": "dynamodb:ConditionCheckItem",
    r"\.batch_write_item\(|\.batch_writer\(": "dynamodb:BatchWriteItem",
}


def function(synth: Synth, name: str) -> tuple[str, dict[str, Any]]:
    logical_id = synth.logical_id("AWS::Lambda::Function", f"/{name}/")
    return logical_id, synth.raw["Resources"][logical_id]["Properties"]


def role_statements(synth: Synth, function_name: str) -> list[dict[str, Any]]:
    """Every statement any policy grants the function's role (inline and attached policies)."""
    role_id = synth.logical_id("AWS::IAM::Role", f"/{function_name}Role/")
    role = synth.raw["Resources"][role_id]["Properties"]
    statements = [s for p in role.get("Policies", []) for s in p["PolicyDocument"]["Statement"]]
    for policy in synth.resources("AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else action


@pytest.mark.parametrize("name", HANDLERS)
def test_function_runs_its_handler_on_arm64_python_3_14_with_set_limits(each_env: Synth, name: str) -> None:
    _, props = function(each_env, name)
    assert props["Handler"] == HANDLERS[name]
    assert props["Runtime"] == "python3.14"
    assert props["Architectures"] == ["arm64"]
    assert 128 <= props["MemorySize"] <= 1024
    if name == "FanoutFunction":  # invoked asynchronously: no caller waits on it
        assert 1 <= props["Timeout"] <= 120
    else:
        assert 1 <= props["Timeout"] <= 29  # API Gateway stops waiting at 29 s


@pytest.mark.parametrize("name", HANDLERS)
def test_function_logs_json_to_its_own_group_with_env_retention(each_env: Synth, name: str) -> None:
    _, props = function(each_env, name)
    logging = props["LoggingConfig"]
    assert logging["LogFormat"] == "JSON"
    assert logging["ApplicationLogLevel"] == each_env.settings.application_log_level
    assert logging["SystemLogLevel"] == each_env.settings.system_log_level
    log_group_id = logging["LogGroup"]["Ref"]
    assert log_group_id == each_env.logical_id("AWS::Logs::LogGroup", f"/{name}Logs/")
    retention = each_env.raw["Resources"][log_group_id]["Properties"]["RetentionInDays"]
    assert retention == {"dev": 7, "staging": 30, "prod": 90}[each_env.env_name]


@pytest.mark.parametrize("name", HANDLERS)
def test_function_environment_is_the_documented_contract(each_env: Synth, name: str) -> None:
    _, props = function(each_env, name)
    variables = props["Environment"]["Variables"]
    assert set(variables) == ENVIRONMENT[name]
    table_id = next(iter(each_env.resources("AWS::DynamoDB::Table")))
    if "TABLE_NAME" in variables:
        assert variables["TABLE_NAME"] == {"Ref": table_id}
        assert variables["MESSAGE_MAX_LENGTH"] == str(each_env.settings.message_max_length)
        assert variables["MAX_ROOM_MEMBERS"] == str(each_env.settings.max_room_members)
        assert variables["MAX_CONNECTIONS_PER_USER"] == str(each_env.settings.max_connections_per_user)
        assert variables["PRESENCE_MAX_MEMBERS"] == str(each_env.settings.presence_max_members)
    if "FANOUT_FUNCTION_NAME" in variables:
        assert variables["FANOUT_FUNCTION_NAME"] == {
            "Ref": each_env.logical_id("AWS::Lambda::Function", "/FanoutFunction/")
        }
    if "FANOUT_QUEUE_URL" in variables:  # a queue's Ref is its URL
        assert variables["FANOUT_QUEUE_URL"] == {
            "Ref": each_env.logical_id("AWS::SQS::Queue", "/FanoutQueue/Jobs/")
        }
    if "FANOUT_RETRY_DELAY_SECONDS" in variables:
        assert variables["FANOUT_RETRY_DELAY_SECONDS"] == str(FANOUT_RETRY_DELAY_SECONDS)
    if "USER_POOL_ID" in variables:
        pool_id = next(iter(each_env.resources("AWS::Cognito::UserPool")))
        client_id = next(iter(each_env.resources("AWS::Cognito::UserPoolClient")))
        assert variables["USER_POOL_ID"] == {"Ref": pool_id}
        assert variables["USER_POOL_CLIENT_IDS"] == {"Ref": client_id}
        assert variables["COGNITO_REGION"] == {"Ref": "AWS::Region"}


def test_broadcast_environment_carries_the_chat_rules_of_the_environment(each_env: Synth) -> None:
    _, props = function(each_env, "BroadcastFunction")
    variables = props["Environment"]["Variables"]
    settings = each_env.settings
    assert float(variables["SEND_RATE_PER_SECOND"]) == settings.send_rate_per_second
    assert int(variables["SEND_BURST"]) == settings.send_burst
    assert variables["REQUIRE_VERIFIED_SENDER"] == ("true" if settings.require_verified_sender else "false")


def test_no_policy_grants_a_wildcard_action_or_a_managed_policy_to_functions(each_env: Synth) -> None:
    documents = [p["Properties"]["PolicyDocument"] for p in each_env.resources("AWS::IAM::Policy").values()]
    for role in each_env.resources("AWS::IAM::Role").values():
        documents += [p["PolicyDocument"] for p in role["Properties"].get("Policies", [])]
        assert "ManagedPolicyArns" not in role["Properties"]
    all_actions = [a for d in documents for s in d["Statement"] for a in actions(s)]
    assert all_actions
    assert not [a for a in all_actions if a == "*" or a.endswith(":*")]


def test_the_authorizer_may_write_its_logs_and_nothing_else(each_env: Synth) -> None:
    (statement,) = role_statements(each_env, "AuthorizerFunction")
    log_group = each_env.logical_id("AWS::Logs::LogGroup", "/AuthorizerFunctionLogs/")
    assert sorted(actions(statement)) == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert statement["Resource"] == {"Fn::GetAtt": [log_group, "Arn"]}


@pytest.mark.parametrize(
    "name", ["LifecycleFunction", "DirectFunction", "BroadcastFunction", "FanoutFunction"]
)
def test_route_functions_use_items_of_the_chat_table_only_and_never_scan(each_env: Synth, name: str) -> None:
    table_id = next(iter(each_env.resources("AWS::DynamoDB::Table")))
    table_statements = [s for s in role_statements(each_env, name) if "dynamodb" in json.dumps(s["Action"])]
    assert table_statements
    table_arn = {"Fn::GetAtt": [table_id, "Arn"]}
    online_index = {"Fn::Join": ["", [table_arn, f"/index/{keys.ONLINE_INDEX}"]]}
    for statement in table_statements:
        assert set(actions(statement)) <= ALLOWED_TABLE_ACTIONS
        if statement["Resource"] == online_index:  # big rooms' fan-outs read the online index
            assert name == "FanoutFunction" and actions(statement) == ["dynamodb:Query"], statement
        else:
            assert statement["Resource"] == table_arn


def test_the_table_grants_together_are_what_the_data_access_layer_calls(dev: Synth) -> None:
    """Each role's own set is derived from the calls its function makes (tests/chat/
    test_table_permissions.py); here, a cross-check on the source: no action no code calls."""
    source = "\n".join(path.read_text() for path in DAL.rglob("*.py"))
    used = {action for pattern, action in DAL_CALLS.items() if re.search(pattern, source)}
    assert "dynamodb:Query" in used  # the scan found the DAL's calls
    assert "dynamodb:Scan" not in used
    granted = {
        a
        for name in ("LifecycleFunction", "DirectFunction", "BroadcastFunction", "FanoutFunction")
        for s in role_statements(dev, name)
        for a in actions(s)
        if "dynamodb" in a
    }
    assert granted == used


@pytest.mark.parametrize("name", HANDLERS)
def test_each_function_role_writes_only_to_that_function_log_group(each_env: Synth, name: str) -> None:
    log_statements = [s for s in role_statements(each_env, name) if "logs:" in json.dumps(s["Action"])]
    log_group = each_env.logical_id("AWS::Logs::LogGroup", f"/{name}Logs/")
    assert [s["Resource"] for s in log_statements] == [{"Fn::GetAtt": [log_group, "Arn"]}]


def test_every_function_carries_its_asset_path_for_the_local_stack(dev: Synth) -> None:
    paths = {}
    for name in HANDLERS:
        logical_id, _ = function(dev, name)
        paths[name] = dev.raw["Resources"][logical_id]["Metadata"]["aws:asset:path"]
    route_paths = {paths["LifecycleFunction"], paths["DirectFunction"], paths["BroadcastFunction"]}
    assert len(route_paths) == 1  # the three route functions share one asset
    assert paths["AuthorizerFunction"] not in route_paths


RESERVED = {"dev": (None, None), "staging": (None, None), "prod": (100, 100)}


def test_reserved_concurrency_caps_the_frame_functions_where_the_environment_sets_it(each_env: Synth) -> None:
    """Reserved only where cdk.json asks (prod as shipped): a new account's quota of 10 leaves
    nothing to reserve (Lambda keeps 100 unreserved), so dev and staging deploy anywhere."""
    settings = each_env.settings
    assert (settings.direct_reserved_concurrency, settings.broadcast_reserved_concurrency) == RESERVED[
        each_env.env_name
    ]
    expected = {
        "chat.handlers.direct.handler": settings.direct_reserved_concurrency,
        "chat.handlers.broadcast.handler": settings.broadcast_reserved_concurrency,
        # $connect, the authorizer and the fan-out draw on the unreserved pool
        "chat.handlers.lifecycle.handler": None,
        "handler.lambda_handler": None,
        "chat.handlers.fanout.handler": None,
    }
    for handler, reserved in expected.items():
        each_env.template.has_resource_properties(
            "AWS::Lambda::Function",
            {
                "Handler": handler,
                "ReservedConcurrentExecutions": Match.absent() if reserved is None else reserved,
            },
        )
