"""Least privilege (issue 10): each function's role allows exactly the table actions its code calls.

The actions are derived per function from the calls recorded while every scenario of
tests/chat/scenarios.py runs (the same clean runs the fault matrix fails call by call, reused
when it ran first in the session): the calls a
route makes belong to the function that serves the route, the calls made while the queued fan-outs
run belong to FanoutFunction, and a transaction needs the actions of its items. They are compared
with the table statements of each function's role in the synthesized template (dev: the roles are
the same in every environment), function by function, not as a union.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from stacks.app import build_app
from stacks.constants import stack_name
from tests.chat.scenarios import (
    FANOUT,
    SCENARIOS,
    Servers,
    clean_recording,
    servers_fixture,  # noqa: F401 (the `servers` fixture)
)

FUNCTIONS = ("LifecycleFunction", "DirectFunction", "BroadcastFunction", FANOUT, "AuthorizerFunction")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    outdir = tmp_path_factory.mktemp("synth-permissions")
    build_app({"env": "dev", "aws:cdk:bundling-stacks": []}, outdir=str(outdir)).synth()
    return json.loads((Path(outdir) / f"{stack_name('dev')}.template.json").read_text())


def table_actions_of_roles(template: dict[str, Any]) -> dict[str, set[str]]:
    """Function construct id -> the DynamoDB actions its role's statements allow on the table (an
    action on one of its indexes as `<action> index/<name>`, as scenarios.iam_actions names them)."""
    resources = template["Resources"]
    [table_id] = [key for key, value in resources.items() if value["Type"] == "AWS::DynamoDB::Table"]
    role_of: dict[str, str] = {}
    for value in resources.values():
        if value["Type"] == "AWS::Lambda::Function":
            path = value["Metadata"]["aws:cdk:path"]
            function = next(name for name in FUNCTIONS if f"/{name}/" in path or path.endswith(f"/{name}"))
            role_of[value["Properties"]["Role"]["Fn::GetAtt"][0]] = function
    allowed: dict[str, set[str]] = {function: set() for function in role_of.values()}

    def add(role_id: str, statements: list[dict[str, Any]]) -> None:
        for statement in statements:
            targets = (
                statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            )
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if any(json.dumps(target).find(f'"{table_id}"') >= 0 for target in targets):
                assert statement["Effect"] == "Allow"
                for target in targets:  # the table's ARN, or `<its ARN>/index/<name>`
                    index = re.search(r'"/(index/[^"]+)"', json.dumps(target))
                    allowed[role_of[role_id]].update(f"{a} {index[1]}" if index else a for a in actions)
            else:
                assert not [a for a in actions if a.startswith("dynamodb:")], (role_id, statement)

    for key, value in resources.items():
        if value["Type"] == "AWS::IAM::Role" and key in role_of:
            for policy in value["Properties"].get("Policies", []):
                add(key, policy["PolicyDocument"]["Statement"])
        if value["Type"] == "AWS::IAM::Policy":
            for role in value["Properties"]["Roles"]:
                if role["Ref"] in role_of:
                    add(role["Ref"], value["Properties"]["PolicyDocument"]["Statement"])
    return allowed


def test_each_role_allows_exactly_the_table_actions_its_function_calls(servers: Servers, template) -> None:
    called: dict[str, set[str]] = {function: set() for function in FUNCTIONS}
    for name in SCENARIOS:
        for function, actions in clean_recording(name, servers).actions.items():
            called[function] |= actions

    allowed = table_actions_of_roles(template)

    assert set(allowed) == set(FUNCTIONS)
    for function in FUNCTIONS:
        assert sorted(allowed[function]) == sorted(called[function]), (function, sorted(called[function]))
