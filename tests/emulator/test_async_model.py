"""Reading asynchronous invocation settings from a template: defaults, references, refusals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from local_stack.assembly import Assembly, AssemblyError
from local_stack.intrinsics import Resolver
from local_stack.model import AsyncInvokeSpec, TemplateFunction, build_async_invoke

QUEUE_ARN = "arn:aws:sqs:ap-northeast-1:123456789012:Stack-Failures"


def template(*configs: dict[str, Any], dead_letter: bool = False) -> dict[str, Any]:
    function: dict[str, Any] = {"Type": "AWS::Lambda::Function", "Properties": {"Handler": "h.handler"}}
    if dead_letter:
        function["Properties"]["DeadLetterConfig"] = {"TargetArn": {"Fn::GetAtt": ["Failures", "Arn"]}}
    resources: dict[str, Any] = {"Fn": function, "Failures": {"Type": "AWS::SQS::Queue"}}
    for index, properties in enumerate(configs):
        resources[f"Config{index}"] = {"Type": "AWS::Lambda::EventInvokeConfig", "Properties": properties}
    return {"Resources": resources}


def read(body: dict[str, Any]) -> dict[str, AsyncInvokeSpec]:
    assembly = Assembly(Path("."), "Stack", "Stack", body, "ap-northeast-1", None)
    resolver = Resolver(assembly.resources, "ap-northeast-1", "123456789012", "Stack")
    spec = TemplateFunction(
        logical_id="Fn",
        name=resolver.ref("Fn"),
        arn=resolver.get_att("Fn", "Arn"),
        handler="h.handler",
        asset_dir=Path("."),
        environment={},
        timeout=3,
        memory_mb=128,
    )
    return build_async_invoke(assembly, resolver, {"Fn": spec})


def test_a_function_without_a_configuration_has_lambdas_defaults() -> None:
    assert read(template()) == {"Fn": AsyncInvokeSpec(max_retry_attempts=2, max_event_age_seconds=21600)}


def test_a_configuration_names_its_function_by_ref_or_arn_with_destinations_and_dead_letter() -> None:
    for name in ({"Ref": "Fn"}, {"Fn::GetAtt": ["Fn", "Arn"]}):
        config = {
            "FunctionName": name,
            "Qualifier": "$LATEST",
            "MaximumRetryAttempts": 0,
            "MaximumEventAgeInSeconds": 60,
            "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": ["Failures", "Arn"]}}},
        }
        assert read(template(config, dead_letter=True))["Fn"] == AsyncInvokeSpec(
            max_retry_attempts=0,
            max_event_age_seconds=60,
            on_failure=QUEUE_ARN,
            dead_letter=QUEUE_ARN,
        )


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"FunctionName": "NotHere", "Qualifier": "$LATEST"}, "FunctionName 'NotHere' is no function here"),
        ({"FunctionName": {"Ref": "Fn"}, "Qualifier": "live"}, "Qualifier 'live': only $LATEST"),
    ],
)
def test_a_configuration_the_local_stack_cannot_honour_stops_the_start(
    config: dict[str, Any], message: str
) -> None:
    with pytest.raises(AssemblyError, match=message.replace("$", r"\$")):
        read(template(config))
