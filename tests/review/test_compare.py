"""tools.review on hand-written templates: what counts as added, removed and changed, exactly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tools.review.assembly import Acknowledgment, AssemblyError, StackSnapshot, read_assembly
from tools.review.compare import ResourceChange, compare_stacks
from tools.review.iam import Permission, permissions, render
from tools.review.report import render_report

TABLE_ARN = {"Fn::GetAtt": ["Table", "Arn"]}


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def snapshot(
    resources: dict[str, Any], *acks: Acknowledgment, outputs: dict[str, Any] | None = None
) -> StackSnapshot:
    template = {"Resources": resources, **({"Outputs": outputs} if outputs else {})}
    return StackSnapshot("Chat-dev", template, frozenset(acks))


def test_permissions_come_from_every_kind_of_policy_document() -> None:
    template = {
        "Resources": {
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": policy(
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ),
                    "Policies": [
                        {
                            "PolicyName": "Inline",
                            "PolicyDocument": policy({"Action": ["s3:GetObject"], "Resource": "*"}),
                        }
                    ],
                    "ManagedPolicyArns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
                },
            },
            "Policy": {
                "Type": "AWS::IAM::Policy",
                # A single statement (not a list) and a single action string are valid IAM too.
                "Properties": {
                    "PolicyDocument": {
                        "Statement": {"Effect": "Deny", "NotAction": "dynamodb:Query", "Resource": TABLE_ARN}
                    },
                    "Roles": [{"Ref": "Role"}],
                },
            },
            "Managed": {
                "Type": "AWS::IAM::ManagedPolicy",
                "Properties": {
                    "PolicyDocument": policy(
                        {
                            "Effect": "Allow",
                            "Action": "sqs:SendMessage",
                            "Resource": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":sqs:::q"]]},
                            "Condition": {"Bool": {"aws:SecureTransport": "true"}},
                        }
                    )
                },
            },
            "QueuePolicy": {
                "Type": "AWS::SQS::QueuePolicy",
                "Properties": {
                    "PolicyDocument": policy(
                        {"Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Resource": "*"}
                    )
                },
            },
            "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {"TableName": "t"}},
        }
    }
    role, iam_role = "Role", "AWS::IAM::Role"
    assert permissions(template) == {
        Permission(
            role,
            iam_role,
            "AssumeRolePolicyDocument",
            "Allow",
            "Service: lambda.amazonaws.com",
            "sts:AssumeRole",
            "",
            "",
        ),
        Permission(role, iam_role, "Policies/Inline/PolicyDocument", "Allow", "", "s3:GetObject", "*", ""),
        Permission(
            role,
            iam_role,
            "ManagedPolicyArns",
            "Attach",
            "",
            "",
            "arn:aws:iam::aws:policy/ReadOnlyAccess",
            "",
        ),
        Permission(
            "Policy",
            "AWS::IAM::Policy",
            "PolicyDocument",
            "Deny",
            "",
            "NOT dynamodb:Query",
            "${Table.Arn}",
            "",
        ),
        Permission(
            "Managed",
            "AWS::IAM::ManagedPolicy",
            "PolicyDocument",
            "Allow",
            "",
            "sqs:SendMessage",
            "arn:${AWS::Partition}:sqs:::q",
            '{"Bool":{"aws:SecureTransport":"true"}}',
        ),
        Permission("QueuePolicy", "AWS::SQS::QueuePolicy", "PolicyDocument", "Allow", "*", "sqs:*", "*", ""),
    }


@pytest.mark.parametrize(
    ("value", "rendered"),
    [
        ({"Ref": "Topic"}, "${Topic}"),
        ({"Fn::GetAtt": "Table.Arn"}, "${Table.Arn}"),
        ({"Fn::Sub": ["arn:${AWS::Partition}:s3:::${B}", {"B": "b"}]}, "arn:${AWS::Partition}:s3:::${B}"),
        ({"Fn::If": ["C", "a", "b"]}, '{"Fn::If":["C","a","b"]}'),
    ],
)
def test_template_values_render_as_a_reader_writes_them(value: Any, rendered: str) -> None:
    assert render(value) == rendered


def test_a_statement_that_gains_an_action_adds_exactly_that_permission() -> None:
    def with_actions(*actions: str) -> StackSnapshot:
        document = policy({"Effect": "Allow", "Action": list(actions), "Resource": [TABLE_ARN, "arn:x"]})
        return snapshot({"P": {"Type": "AWS::IAM::Policy", "Properties": {"PolicyDocument": document}}})

    review = compare_stacks(
        "Chat-dev", with_actions("dynamodb:GetItem"), with_actions("dynamodb:Scan", "dynamodb:GetItem")
    )
    added = {(p.action, p.resource) for p in review.permissions_added}
    assert added == {("dynamodb:Scan", "${Table.Arn}"), ("dynamodb:Scan", "arn:x")}
    assert review.permissions_removed == ()
    assert [c.logical_id for c in review.resources_changed] == ["P"]


def test_resources_added_removed_and_changed_by_logical_id_ignoring_metadata() -> None:
    base = snapshot(
        {
            "Kept": {"Type": "AWS::SNS::Topic", "Metadata": {"aws:cdk:path": "S/Kept"}},
            "Moved": {
                "Type": "AWS::SQS::Queue",
                "Properties": {"A": 1},
                "Metadata": {"aws:cdk:path": "S/Old"},
            },
            "Changed": {"Type": "AWS::Lambda::Function", "Properties": {"Timeout": 10, "MemorySize": 256}},
            "Gone": {"Type": "AWS::Logs::LogGroup", "Metadata": {"aws:cdk:path": "S/Gone/Resource"}},
        },
        outputs={"Url": {"Value": "a"}, "Old": {"Value": "o"}},
    )
    head = snapshot(
        {
            "Kept": {"Type": "AWS::SNS::Topic", "Metadata": {"aws:cdk:path": "S/Kept"}},
            "Moved": {
                "Type": "AWS::SQS::Queue",
                "Properties": {"A": 1},
                "Metadata": {"aws:cdk:path": "S/New"},
            },
            "Changed": {
                "Type": "AWS::Lambda::Function",
                "Properties": {"Timeout": 20, "MemorySize": 256, "Layers": ["l"]},
                "DependsOn": ["Kept"],
                "DeletionPolicy": "Retain",
            },
            "New": {"Type": "AWS::SQS::Queue", "Metadata": {"aws:cdk:path": "S/New/Resource"}},
        },
        outputs={"Url": {"Value": "b"}, "QueueUrl": {"Value": "q"}},
    )
    review = compare_stacks("Chat-dev", base, head)
    assert review.resources_added == (ResourceChange("New", "AWS::SQS::Queue", "S/New/Resource"),)
    assert review.resources_removed == (ResourceChange("Gone", "AWS::Logs::LogGroup", "S/Gone/Resource"),)
    assert review.resources_changed == (
        ResourceChange(
            "Changed", "AWS::Lambda::Function", "", ("DependsOn", "DeletionPolicy", "Layers", "Timeout")
        ),
    )
    assert (review.outputs_added, review.outputs_removed, review.outputs_changed) == (
        ("QueueUrl",),
        ("Old",),
        ("Url",),
    )


def test_acknowledgments_added_and_removed_by_construct_rule_and_reason() -> None:
    kept = Acknowledgment("Chat-dev/Table", "AwsSolutions-DDB3", "disposable data")
    reworded = Acknowledgment("Chat-dev/Pool", "AwsSolutions-COG2", "old reason")
    new = Acknowledgment("Chat-dev/Pool", "AwsSolutions-COG2", "new reason")
    review = compare_stacks("Chat-dev", snapshot({}, kept, reworded), snapshot({}, kept, new))
    assert review.acknowledgments_added == (new,)
    assert review.acknowledgments_removed == (reworded,)


def test_a_stack_only_in_the_head_is_new_and_all_its_resources_are_added() -> None:
    head = snapshot({"Role": {"Type": "AWS::IAM::Role", "Properties": {}}})
    review = compare_stacks("Chat-dev", None, head)
    assert (review.in_base, review.in_head) == (False, True)
    assert [c.logical_id for c in review.resources_added] == ["Role"]
    assert not review.unchanged


def test_report_renders_counts_tables_and_escapes_pipes() -> None:
    ack = Acknowledgment("Chat-dev/Fn", "AwsSolutions-L1", "a | pipe")
    document = policy({"Effect": "Allow", "Action": ["b:Two", "a:One"], "Resource": ["r1", "r2"]})
    head = snapshot({"P": {"Type": "AWS::IAM::Policy", "Properties": {"PolicyDocument": document}}}, ack)
    same = snapshot({})
    reviews = [compare_stacks("Chat-dev", snapshot({}), head), compare_stacks("Chat-prod", same, same)]
    report = render_report(reviews, base_label="`main`", head_label="`HEAD`")
    assert report == (
        "## Synthesized stacks: `main` → `HEAD`\n"
        "\n"
        "| stack | resources added | removed | changed | IAM permissions added | removed "
        "| cdk-nag acknowledgments added | removed |\n"
        "|---|---|---|---|---|---|---|---|\n"
        "| `Chat-dev` | 1 | 0 | 0 | 4 | 0 | 1 | 0 |\n"
        "| `Chat-prod` | 0 | 0 | 0 | 0 | 0 | 0 | 0 |\n"
        "\n"
        "### `Chat-dev`\n"
        "\n"
        "**Resources added (1)**\n"
        "\n"
        "| logical id | type | construct path |\n"
        "|---|---|---|\n"
        "| `P` | `AWS::IAM::Policy` |  |\n"
        "\n"
        "**IAM permissions added (4)**\n"
        "\n"
        "| on | document | effect | actions | resources | principal | condition |\n"
        "|---|---|---|---|---|---|---|\n"
        "| `P` (`AWS::IAM::Policy`) | `PolicyDocument` | Allow | `a:One`<br>`b:Two` | `r1`<br>`r2` |  |  |\n"
        "\n"
        "**cdk-nag acknowledgments added (1)**\n"
        "\n"
        "| rule | on | reason |\n"
        "|---|---|---|\n"
        "| `AwsSolutions-L1` | Chat-dev/Fn | a \\| pipe |\n"
        "\n"
        "### `Chat-prod`\n"
        "\n"
        "No changes.\n"
    )


def test_read_assembly_takes_acknowledgments_from_the_stack_metadata_file(tmp_path: Path) -> None:
    (tmp_path / "S.template.json").write_text(json.dumps({"Resources": {}}))
    metadata = {
        "/S/Table": [
            {"type": "aws:cdk:acknowledged-rules", "data": {"AwsSolutions::AwsSolutions-DDB3": "why"}},
            {"type": "aws:cdk:logicalId", "data": "Table"},
        ]
    }
    (tmp_path / "S.metadata.json").write_text(json.dumps(metadata))
    artifact = {
        "type": "aws:cloudformation:stack",
        "properties": {"templateFile": "S.template.json", "stackName": "Chat-dev"},
        "additionalMetadataFile": "S.metadata.json",
    }
    (tmp_path / "manifest.json").write_text(
        json.dumps({"artifacts": {"S": artifact, "T": {"type": "cdk:tree"}}})
    )
    stacks = read_assembly(tmp_path)
    assert list(stacks) == ["Chat-dev"]
    assert stacks["Chat-dev"].acknowledgments == {Acknowledgment("S/Table", "AwsSolutions-DDB3", "why")}


def test_read_assembly_refuses_a_directory_that_is_not_one(tmp_path: Path) -> None:
    with pytest.raises(AssemblyError, match="not a synthesized cloud assembly"):
        read_assembly(tmp_path)
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(AssemblyError, match=r"manifest\.json: Expecting property name"):
        read_assembly(tmp_path)
