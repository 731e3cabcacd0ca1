"""The FIFO queue of the rooms' ordered fan-out jobs: its dead-letter queue, encryption and TLS, the
event source mapping to FanoutFunction, and who may send to it and consume it."""

from __future__ import annotations

from typing import Any

from aws_cdk.assertions import Match

from stacks.monitoring import OLDEST_JOB_SECONDS
from tests.infrastructure.conftest import Synth
from tests.infrastructure.test_functions import actions, function, role_statements

# What the event source mapping needs to poll the queue, delete what succeeded and return what failed
# (`SqsEventSource` grants these; `sqs:ChangeMessageVisibility` also covers the
# ChangeMessageVisibilityBatch call of chat.dispatch.retry_later).
CONSUME_ACTIONS = {
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
}
FUNCTIONS = (
    "AuthorizerFunction",
    "LifecycleFunction",
    "DirectFunction",
    "BroadcastFunction",
    "FanoutFunction",
)


def jobs(synth: Synth) -> str:
    return synth.logical_id("AWS::SQS::Queue", "/FanoutQueue/Jobs/")


def dead_letters(synth: Synth) -> str:
    return synth.logical_id("AWS::SQS::Queue", "/FanoutQueue/DeadLetters/")


def queue(synth: Synth, logical_id: str) -> dict[str, Any]:
    return synth.raw["Resources"][logical_id]


def arn(logical_id: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def statements_on(synth: Synth, function_name: str, logical_id: str) -> list[dict[str, Any]]:
    """The function's statements that name the queue (by ARN or URL) as a resource."""
    found = []
    for statement in role_statements(synth, function_name):
        resources = (
            statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        )
        if arn(logical_id) in resources or {"Ref": logical_id} in resources:
            found.append(statement)
    return found


def test_the_jobs_and_their_dead_letters_are_fifo_queues_with_sqs_managed_encryption(each_env: Synth) -> None:
    for logical_id in (jobs(each_env), dead_letters(each_env)):
        props = queue(each_env, logical_id)["Properties"]
        assert props["FifoQueue"] is True, logical_id
        assert props["SqsManagedSseEnabled"] is True, logical_id
        assert "KmsMasterKeyId" not in props, logical_id
    # the route gives each job its deduplication id (a message's id): not the body's hash
    assert queue(each_env, jobs(each_env))["Properties"]["ContentBasedDeduplication"] is False


def test_both_queues_refuse_requests_without_tls(each_env: Synth) -> None:
    for logical_id in (jobs(each_env), dead_letters(each_env)):
        each_env.template.has_resource_properties(
            "AWS::SQS::QueuePolicy",
            {
                "Queues": [{"Ref": logical_id}],
                "PolicyDocument": {
                    "Statement": Match.array_with(
                        [
                            {
                                "Effect": "Deny",
                                "Principal": {"AWS": "*"},
                                "Action": "sqs:*",
                                "Resource": arn(logical_id),
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        ]
                    )
                },
            },
        )


def test_a_job_goes_to_the_dead_letter_queue_after_three_receives(each_env: Synth) -> None:
    props = queue(each_env, jobs(each_env))["Properties"]
    assert props["RedrivePolicy"] == {
        "deadLetterTargetArn": arn(dead_letters(each_env)),
        "maxReceiveCount": 3,
    }
    # a dead letter outlives the jobs' own retention: it is kept for diagnosis (the most SQS allows)
    dead = queue(each_env, dead_letters(each_env))["Properties"]
    assert dead["MessageRetentionPeriod"] == 14 * 24 * 3600
    assert dead["MessageRetentionPeriod"] > props["MessageRetentionPeriod"]
    assert "RedrivePolicy" not in dead


def test_the_visibility_timeout_is_at_least_six_times_the_fan_out_timeout(each_env: Synth) -> None:
    """AWS's guidance for a queue an event source mapping polls: a record still being handled (or
    waiting for a throttled invocation) does not come back to another batch meanwhile."""
    _, fanout = function(each_env, "FanoutFunction")
    assert queue(each_env, jobs(each_env))["Properties"]["VisibilityTimeout"] >= 6 * fanout["Timeout"]


def test_a_failed_job_comes_back_sooner_than_its_visibility_timeout_and_the_delay_alarm(
    each_env: Synth,
) -> None:
    """FanoutFunction returns its failed records after FANOUT_RETRY_DELAY_SECONDS: a job that fails
    every receive is dead-lettered within seconds, long before FanoutJobsDelayed would fire."""
    _, fanout = function(each_env, "FanoutFunction")
    delay = int(fanout["Environment"]["Variables"]["FANOUT_RETRY_DELAY_SECONDS"])
    props = queue(each_env, jobs(each_env))["Properties"]
    receives = props["RedrivePolicy"]["maxReceiveCount"]
    assert 0 < delay < props["VisibilityTimeout"]
    assert receives * delay < OLDEST_JOB_SECONDS


def test_the_queue_feeds_the_fan_out_function_in_batches_of_ten_with_partial_failures(
    each_env: Synth,
) -> None:
    each_env.template.resource_count_is("AWS::Lambda::EventSourceMapping", 1)
    fanout_id, _ = function(each_env, "FanoutFunction")
    each_env.template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "EventSourceArn": arn(jobs(each_env)),
            "FunctionName": {"Ref": fanout_id},
            "BatchSize": 10,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            # a batching window would hold a room's jobs back; FIFO sources take none
            "MaximumBatchingWindowInSeconds": Match.absent(),
            "Enabled": Match.absent(),
        },
    )


def test_only_the_broadcast_function_may_send_jobs_and_only_to_this_queue(each_env: Synth) -> None:
    (statement,) = statements_on(each_env, "BroadcastFunction", jobs(each_env))
    assert statement == {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": arn(jobs(each_env))}
    senders = [
        name
        for name in FUNCTIONS
        for s in role_statements(each_env, name)
        if "sqs:SendMessage" in actions(s) and s["Resource"] == arn(jobs(each_env))
    ]
    assert senders == ["BroadcastFunction"]
    # the other functions' roles name neither queue
    for name in ("AuthorizerFunction", "LifecycleFunction", "DirectFunction"):
        for logical_id in (jobs(each_env), dead_letters(each_env)):
            assert statements_on(each_env, name, logical_id) == [], (name, logical_id)
    assert statements_on(each_env, "BroadcastFunction", dead_letters(each_env)) == []


def test_the_fan_out_function_consumes_the_queue_and_holds_no_other_queue_grant(each_env: Synth) -> None:
    (statement,) = statements_on(each_env, "FanoutFunction", jobs(each_env))
    assert statement["Effect"] == "Allow"
    assert set(actions(statement)) == CONSUME_ACTIONS
    assert statement["Resource"] == arn(jobs(each_env))
    # besides: Lambda's on-failure destination of its asynchronous invocations; nothing reads or
    # redrives the dead letters automatically (an operator does)
    failures = each_env.logical_id("AWS::SQS::Queue", "/FanoutFailures/")
    queue_statements = [s for s in role_statements(each_env, "FanoutFunction") if "sqs:" in str(s["Action"])]
    assert sorted((str(s["Resource"]), sorted(actions(s))) for s in queue_statements) == sorted(
        [
            (str(arn(jobs(each_env))), sorted(CONSUME_ACTIONS)),
            (str(arn(failures)), ["sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:SendMessage"]),
        ]
    )


def test_the_queues_are_retained_where_the_environment_retains_data(each_env: Synth) -> None:
    expected = "Retain" if each_env.settings.retain_data else "Delete"
    for logical_id in (jobs(each_env), dead_letters(each_env)):
        assert queue(each_env, logical_id)["DeletionPolicy"] == expected, logical_id
        assert queue(each_env, logical_id)["UpdateReplacePolicy"] == expected, logical_id


def test_the_queues_alarm_on_a_dead_letter_on_a_late_job_and_on_a_lost_fan_out(each_env: Synth) -> None:
    """FanoutJobsDeadLettered and FanoutJobsDelayed watch the FIFO queues (FanoutUndelivered the
    asynchronous invocations' failure queue), each on the queue it names, as AWS/SQS publishes it."""
    failures = each_env.logical_id("AWS::SQS::Queue", "/FanoutFailures/")
    expected = {
        "FanoutJobsDeadLettered": (dead_letters(each_env), "ApproximateNumberOfMessagesVisible", 1),
        "FanoutJobsDelayed": (jobs(each_env), "ApproximateAgeOfOldestMessage", OLDEST_JOB_SECONDS),
        "FanoutUndelivered": (failures, "ApproximateNumberOfMessagesVisible", 1),
    }
    for name, (logical_id, metric, threshold) in expected.items():
        each_env.template.has_resource_properties(
            "AWS::CloudWatch::Alarm",
            {
                "AlarmName": f"Chat-{each_env.env_name}-{name}",
                "Namespace": "AWS/SQS",
                "MetricName": metric,
                "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [logical_id, "QueueName"]}}],
                "Statistic": "Maximum",
                "Period": 300,
                "EvaluationPeriods": 1,
                "Threshold": threshold,
                "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                "TreatMissingData": "notBreaching",
            },
        )
