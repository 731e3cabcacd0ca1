"""Reading SQS event source mappings from a template, Lambda's SQS records, and what a batch keeps."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from local_stack import resources
from local_stack.assembly import Assembly, AssemblyError
from local_stack.event_sources import QueuePollers, QueueSource, build, kept_records, sqs_record
from local_stack.intrinsics import Resolver

REGION = "ap-northeast-1"
QUEUE_ARN = f"arn:aws:sqs:{REGION}:123456789012:Stack-Jobs"
CDK_MAPPING = {  # what CDK's SqsEventSource(queue, batch_size=..., report_batch_item_failures=True) emits
    "FunctionName": {"Ref": "Fn"},
    "EventSourceArn": {"Fn::GetAtt": ["Jobs", "Arn"]},
    "BatchSize": 5,
    "FunctionResponseTypes": ["ReportBatchItemFailures"],
}


def read(*mappings: dict[str, Any]) -> list[QueueSource]:
    body: dict[str, Any] = {
        "Resources": {
            "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"Handler": "h.handler"}},
            "Jobs": {"Type": "AWS::SQS::Queue", "Properties": {"FifoQueue": True}},
        }
    }
    for index, properties in enumerate(mappings):
        body["Resources"][f"Mapping{index}"] = {
            "Type": "AWS::Lambda::EventSourceMapping",
            "Properties": properties,
        }
    assembly = Assembly(Path("."), "Stack", "Stack", body, REGION, None)
    resolver = Resolver(assembly.resources, REGION, "123456789012", "Stack")
    functions = {resolver.ref("Fn"): "Fn", resolver.get_att("Fn", "Arn"): "Fn"}
    return build(assembly, resolver, functions, resources.queue_urls(assembly, resolver))


def source(maximum_concurrency: int | None = None) -> QueueSource:
    return QueueSource("Fn", "Stack-Jobs", QUEUE_ARN, 10, True, maximum_concurrency)


def test_a_cdk_mapping_names_its_function_and_queue_and_reports_item_failures() -> None:
    assert read(CDK_MAPPING) == [
        QueueSource(
            function="Fn",
            queue_url="Stack-Jobs",
            queue_arn=QUEUE_ARN,
            batch_size=5,
            reports_item_failures=True,
            maximum_concurrency=None,
        )
    ]


def test_a_mapping_has_lambdas_defaults_and_may_name_its_function_by_arn() -> None:
    minimal = {
        "FunctionName": {"Fn::GetAtt": ["Fn", "Arn"]},
        "EventSourceArn": {"Fn::GetAtt": ["Jobs", "Arn"]},
    }
    (found,) = read(minimal)
    assert (found.function, found.batch_size, found.reports_item_failures) == ("Fn", 10, False)
    assert found.maximum_concurrency is None


def test_scaling_configs_maximum_concurrency_is_read() -> None:
    (found,) = read({**CDK_MAPPING, "ScalingConfig": {"MaximumConcurrency": 3}})
    assert found.maximum_concurrency == 3


def test_a_disabled_mapping_is_not_polled() -> None:
    assert read({**CDK_MAPPING, "Enabled": False}) == []
    assert len(read({**CDK_MAPPING, "Enabled": True})) == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"EventSourceArn": "arn:aws:sqs:ap-northeast-1:123456789012:elsewhere"},
            "only SQS queues of the template are polled locally",
        ),
        (
            {"EventSourceArn": "arn:aws:kinesis:ap-northeast-1:123456789012:stream/s"},
            "only SQS queues of the template are polled locally",
        ),
        ({"FunctionName": "NotHere"}, "FunctionName 'NotHere' is no function here"),
        ({"MaximumBatchingWindowInSeconds": 5}, "a batching window is not emulated"),
    ],
)
def test_a_mapping_the_local_stack_cannot_honour_stops_the_start(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(AssemblyError, match=f"Mapping0: {message}"):
        read({**CDK_MAPPING, **changes})


def test_a_zero_batching_window_is_no_window() -> None:
    assert len(read({**CDK_MAPPING, "MaximumBatchingWindowInSeconds": 0})) == 1


def message(message_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "MessageId": message_id,
        "ReceiptHandle": f"handle-{message_id}",
        "Body": "body",
        "MD5OfBody": "841a2d689ad86bd1611447453c22c6fc",
        **extra,
    }


def test_a_received_message_is_lambdas_sqs_record() -> None:
    attributes = {"ApproximateReceiveCount": "2", "MessageGroupId": "room-1", "SequenceNumber": "7"}
    assert sqs_record(message("m1", Attributes=attributes), QUEUE_ARN) == {
        "messageId": "m1",
        "receiptHandle": "handle-m1",
        "body": "body",
        "attributes": attributes,
        "messageAttributes": {},
        "md5OfMessageAttributes": None,
        "md5OfBody": "841a2d689ad86bd1611447453c22c6fc",
        "eventSource": "aws:sqs",
        "eventSourceARN": QUEUE_ARN,
        "awsRegion": REGION,
    }


def test_message_attributes_are_in_lambdas_shape_and_the_record_is_json() -> None:
    # boto3 gives capitalized keys and bytes; Lambda's event has camel-case keys and base64 strings.
    received = message(
        "m1",
        MD5OfMessageAttributes="0123456789abcdef0123456789abcdef",
        MessageAttributes={
            "kind": {"StringValue": "join", "DataType": "String"},
            "blob": {"BinaryValue": b"\x00\x01", "DataType": "Binary"},
        },
    )
    record = sqs_record(received, QUEUE_ARN)
    assert record["messageAttributes"] == {
        "kind": {"stringValue": "join", "stringListValues": [], "binaryListValues": [], "dataType": "String"},
        "blob": {"binaryValue": "AAE=", "stringListValues": [], "binaryListValues": [], "dataType": "Binary"},
    }
    assert record["md5OfMessageAttributes"] == "0123456789abcdef0123456789abcdef"
    json.dumps(record)  # what the worker is handed


BATCH = [message("a"), message("b"), message("c")]


@pytest.mark.parametrize(
    ("result", "kept"),
    [
        # Lambda's complete successes: no answer, an empty answer, an empty or null list
        (None, set()),
        ({}, set()),
        ({"batchItemFailures": []}, set()),
        ({"batchItemFailures": None}, set()),
        ({"other": 1}, set()),
        # the records named
        ({"batchItemFailures": [{"itemIdentifier": "b"}]}, {"b"}),
        ({"batchItemFailures": [{"itemIdentifier": "c"}, {"itemIdentifier": "a"}]}, {"a", "c"}),
        # complete failures: an id not in the batch, an empty or null id, a wrong key, not a list
        ({"batchItemFailures": [{"itemIdentifier": "b"}, {"itemIdentifier": "zz"}]}, {"a", "b", "c"}),
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, {"a", "b", "c"}),
        ({"batchItemFailures": [{"itemIdentifier": None}]}, {"a", "b", "c"}),
        ({"batchItemFailures": [{"itemId": "b"}]}, {"a", "b", "c"}),
        ({"batchItemFailures": ["b"]}, {"a", "b", "c"}),
        ({"batchItemFailures": "b"}, {"a", "b", "c"}),
        ({"batchItemFailures": 3}, {"a", "b", "c"}),
        ({"batchItemFailures": {"itemIdentifier": "b"}}, {"a", "b", "c"}),
    ],
)
def test_the_records_a_functions_answer_keeps_in_the_queue(result: Any, kept: set[str]) -> None:
    assert kept_records(BATCH, result) == kept


@pytest.mark.parametrize(
    ("workers", "maximum", "pollers"),
    [
        (8, None, 4),  # half the function's workers
        (4, None, 2),
        (1, None, 1),  # at least one
        (8, 2, 2),  # MaximumConcurrency bounds it
        (8, 1000, 4),  # and the workers do too
        (20, 5, 5),
    ],
)
def test_pollers_per_mapping(workers: int, maximum: int | None, pollers: int) -> None:
    assert QueuePollers.concurrency(source(maximum), workers) == pollers
