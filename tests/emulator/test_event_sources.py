"""Lambda's event source mapping for the fixture's FIFO queue ``Ordered``, driven with boto3.

The fixture function ``queue_consumer`` records every record it is handed (tests/emulator/
fixture_app/functions/queue_consumer.py); the queue's visibility timeout is 2 s and its FIFO
dead-letter queue takes a record after two receives (tests/emulator/fixture_app/app.py).

Two tests cover a group whose records come back together after the visibility timeout: moto 5.2
alone hands them out last first (local_stack/moto_service.py, ``_fifo_redelivery_in_order``).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from tests.emulator.fixture_app.app import ORDERED_MAX_RECEIVE_COUNT, ORDERED_VISIBILITY_SECONDS
from tests.emulator.support import probe, recorded
from tests.support.local_stack import LocalStackProcess

pytestmark = pytest.mark.slow

REGION = "ap-northeast-1"
VISIBILITY = ORDERED_VISIBILITY_SECONDS

Deliveries = list[dict[str, Any]]


def sqs(stack: LocalStackProcess) -> Any:
    return boto3.client("sqs", endpoint_url=stack.outputs["SQSEndpoint"], region_name=REGION)


def send(stack: LocalStackProcess, key: str, entries: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """Send ``(group, extra body)`` records in order, ten per SendMessageBatch; their message ids."""
    ids: list[str] = []
    for start in range(0, len(entries), 10):
        chunk = entries[start : start + 10]
        response = sqs(stack).send_message_batch(
            QueueUrl=stack.outputs["OrderedQueueUrl"],
            Entries=[
                {
                    "Id": str(index),
                    "MessageBody": json.dumps({"probe": key, "n": start + index, **extra}),
                    "MessageGroupId": group,
                }
                for index, (group, extra) in enumerate(chunk)
            ],
        )
        assert not response.get("Failed"), response["Failed"]
        ids += [entry["MessageId"] for entry in sorted(response["Successful"], key=lambda e: int(e["Id"]))]
    return ids


def deliveries(
    stack: LocalStackProcess, key: str, done: Callable[[Deliveries], bool], *, wait: float = 20.0
) -> Deliveries:
    """What the consumer was handed under ``key``, in order (invocation start, place in the batch),
    once ``done`` holds for it."""
    deadline = time.monotonic() + wait
    while True:
        found = sorted(recorded(stack, key, wait=0).values(), key=lambda d: (d["started"], d["index"]))
        if done(found):
            return found
        assert time.monotonic() < deadline, f"still waiting; handed so far: {found}"
        time.sleep(0.1)


def in_group(handed: Deliveries, group: str) -> Deliveries:
    return [delivery for delivery in handed if delivery["group"] == group]


def queue_is_empty(stack: LocalStackProcess, *, wait: float = 5.0) -> bool:
    """No record left in the queue, visible or in flight (every handed record was deleted)."""
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    deadline = time.monotonic() + wait
    while True:
        attributes = sqs(stack).get_queue_attributes(
            QueueUrl=stack.outputs["OrderedQueueUrl"], AttributeNames=names
        )["Attributes"]
        if all(attributes[name] == "0" for name in names):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)


def dead_letters(stack: LocalStackProcess, key: str, *, wait: float) -> list[dict[str, Any]]:
    """The records of ``key`` in the dead-letter queue, once there are some (moto moves all of a
    receive's expired records at once, and the receive reads up to ten of them)."""
    client, url = sqs(stack), stack.outputs["OrderedDeadLettersQueueUrl"]
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + wait
    while not found:
        assert time.monotonic() < deadline, "nothing in the dead-letter queue"
        messages = client.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"]
        ).get("Messages", [])
        for message in messages:
            if json.loads(message["Body"])["probe"] == key:
                found.append(message)
                client.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        time.sleep(0.1)
    return found


@pytest.fixture(scope="module", autouse=True)
def warm_consumer(stack: LocalStackProcess) -> None:
    """Start the consumer's two workers (the mapping's two pollers) before the tests, so that a cold
    start does not eat into the 2 s visibility timeout and have a record handed twice."""
    client = boto3.client("lambda", endpoint_url=stack.outputs["LambdaEndpoint"], region_name=REGION)
    name = stack.outputs["QueueConsumerFunctionName"]
    calls = [
        threading.Thread(target=client.invoke, kwargs={"FunctionName": name, "Payload": b'{"Records": []}'})
        for _ in range(2)
    ]
    for call in calls:
        call.start()
    for call in calls:
        call.join()


def test_records_are_handed_once_in_send_order_within_each_group(stack: LocalStackProcess) -> None:
    key = probe()
    groups = [f"{key}-{name}" for name in ("a", "b", "c")]
    ids = send(stack, key, [(groups[n % 3], {}) for n in range(30)])
    handed = deliveries(stack, key, lambda found: len(found) >= 30)
    assert queue_is_empty(stack)
    # every record once, at its first receive, from the mapping's queue
    assert sorted(delivery["messageId"] for delivery in handed) == sorted(ids)
    assert {(delivery["receives"], delivery["outcome"]) for delivery in handed} == {(1, "ok")}
    assert {delivery["eventSource"] for delivery in handed} == {"aws:sqs"}
    assert {delivery["eventSourceARN"].rsplit(":", 1)[1] for delivery in handed} == {
        stack.outputs["OrderedQueueUrl"].rsplit("/", 1)[1]
    }
    # in send order within each group (groups may interleave), at most ten to an invocation
    for index, group in enumerate(groups):
        assert [delivery["n"] for delivery in in_group(handed, group)] == list(range(index, 30, 3))
    batches: dict[str, int] = {}
    for delivery in handed:
        batches[delivery["requestId"]] = batches.get(delivery["requestId"], 0) + 1
    assert max(batches.values()) <= 10
    time.sleep(0.5)  # nothing more comes
    assert len(recorded(stack, key, wait=0)) == 30


@pytest.fixture(scope="module")
def kept(stack: LocalStackProcess) -> tuple[str, Deliveries]:
    """Group G's 15 records and group H's 5, G's third failing its first receive: the function
    reports it and G's later records of the batch (skipped) in batchItemFailures."""
    key = probe()
    group, other = f"{key}-G", f"{key}-H"
    first_ten = [(group if n % 2 == 0 else other, {"fail": 1} if n == 4 else {}) for n in range(10)]
    send(stack, key, first_ten + [(group, {}) for _ in range(10)])
    handed = deliveries(
        stack, key, lambda found: sum(d["outcome"] == "ok" for d in found) >= 20, wait=VISIBILITY + 15
    )
    assert queue_is_empty(stack)
    return group, handed


def test_a_reported_record_is_handed_again_and_the_rest_of_the_batch_is_deleted(
    stack: LocalStackProcess, kept: tuple[str, Deliveries]
) -> None:
    group, handed = kept
    other = group[:-1] + "H"
    # H's records (not reported) were deleted: each handed once, in order
    assert [(d["n"], d["receives"], d["outcome"]) for d in in_group(handed, other)] == [
        (n, 1, "ok") for n in (1, 3, 5, 7, 9)
    ]
    first = [d for d in in_group(handed, group) if d["requestId"] == handed[0]["requestId"]]
    assert [(d["n"], d["outcome"]) for d in first] == [
        (0, "ok"),
        (2, "ok"),
        (4, "fail"),
        (6, "skipped"),
        (8, "skipped"),
    ]
    # the reported records come back once, at their second receive, after the visibility timeout
    for reported in first[2:]:
        again = [d for d in handed if d["messageId"] == reported["messageId"] and d is not reported]
        assert [(d["receives"], d["outcome"]) for d in again] == [(2, "ok")]
        assert again[0]["started"] >= reported["started"] + VISIBILITY - 0.5
    # and the records processed at the first receive were deleted (handed once)
    for processed in first[:2]:
        assert [d["messageId"] for d in handed].count(processed["messageId"]) == 1


def test_a_groups_later_records_do_not_overtake_a_reported_record(kept: tuple[str, Deliveries]) -> None:
    group, handed = kept
    of_group = in_group(handed, group)
    failed = next(d for d in of_group if d["outcome"] == "fail")
    # while it is in flight no other invocation gets the group's records (the group lock) ...
    retry = next(d for d in of_group if d["messageId"] == failed["messageId"] and d is not failed)
    assert [d["n"] for d in of_group if failed["started"] < d["started"] < retry["started"]] == []
    # ... and the group's records are processed in send order: 0, 2, 4 (the retry), 6, 8, 10 ... 19
    assert [d["n"] for d in of_group if d["outcome"] == "ok"] == [0, 2, *range(4, 10, 2), *range(10, 20)]


@pytest.fixture(scope="module")
def raised(stack: LocalStackProcess) -> tuple[dict[str, str], Deliveries, list[dict[str, Any]]]:
    """One batch of group X: R raises at every receive, S after it would succeed."""
    key = probe()
    group = f"{key}-X"
    raising, succeeding = send(stack, key, [(group, {"raise": 99}), (group, {})])
    ids = {"R": raising, "S": succeeding}
    in_dlq = dead_letters(stack, key, wait=ORDERED_MAX_RECEIVE_COUNT * VISIBILITY + 10)
    time.sleep(0.5)  # the records' last invocations are recorded
    return ids, deliveries(stack, key, lambda found: True), in_dlq


def test_a_raising_batch_deletes_nothing_and_its_records_go_to_the_dead_letter_queue(
    raised: tuple[dict[str, str], Deliveries, list[dict[str, Any]]],
) -> None:
    ids, handed, in_dlq = raised
    # the first receive hands R and S together; the invocation raises
    assert [(d["messageId"], d["receives"], d["outcome"]) for d in handed[:2]] == [
        (ids["R"], 1, "raise"),
        (ids["S"], 1, "ok"),
    ]
    assert handed[0]["requestId"] == handed[1]["requestId"]
    # nothing was deleted: both come back, at their second receive, after the visibility timeout
    for name in ("R", "S"):
        again = [d for d in handed[2:] if d["messageId"] == ids[name]]
        assert [d["receives"] for d in again] == [2], name
        assert again[0]["started"] >= handed[0]["started"] + VISIBILITY - 0.5
    # R raised again and, after ORDERED_MAX_RECEIVE_COUNT receives, is in the dead-letter queue
    assert [d["receives"] for d in handed if d["messageId"] == ids["R"]] == list(
        range(1, ORDERED_MAX_RECEIVE_COUNT + 1)
    )
    dead = next(message for message in in_dlq if message["MessageId"] == ids["R"])
    assert dead["Attributes"]["MessageGroupId"] == handed[0]["group"]
    assert json.loads(dead["Body"])["raise"] == 99


def test_a_raising_batch_comes_back_whole_and_in_order(
    raised: tuple[dict[str, str], Deliveries, list[dict[str, Any]]],
) -> None:
    ids, handed, in_dlq = raised
    # the second receive hands R and S again, together and in order, so S goes to the DLQ too
    assert [(d["messageId"], d["receives"]) for d in handed[2:]] == [(ids["R"], 2), (ids["S"], 2)]
    assert handed[2]["requestId"] == handed[3]["requestId"]
    assert sorted(message["MessageId"] for message in in_dlq) == sorted(ids.values())
