"""The FIFO queue of the rooms' ordered fan-out jobs, its dead-letter queue and its event source mapping.

A room is a message group: Lambda's event source mapping hands a group's records to FanoutFunction
one batch at a time, in order, so a connection gets a room's frames in `seq` order
(docs/ARCHITECTURE.md, "Order"). Both queues are encrypted with SQS-managed keys and refuse
requests without TLS. A record that fails three receives goes to the dead-letter queue, so a poison
job stops its room for seconds, not forever.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

# Receives before a record goes to the dead-letter queue: the first and two retries, as Lambda's
# asynchronous invocation does.
MAX_RECEIVE_COUNT = 3
# Records per invocation: up to ten (a FIFO queue's most), so a busy room's jobs share one start.
BATCH_SIZE = 10
# AWS's guidance for an event source mapping: at least six times the function's timeout.
VISIBILITY_TIMEOUT_FACTOR = 6
# Jobs kept while the fan-out is down; an alarm fires long before (the oldest record's age).
RETENTION = Duration.days(4)


class FanoutQueue(Construct):
    """`queue` feeds `fanout` (call `feed`); `grant_send` lets a route queue jobs in it."""

    def __init__(self, scope: Construct, id_: str, *, function_timeout: Duration, retain: bool) -> None:
        super().__init__(scope, id_)
        removal = RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY
        self.dead_letters = sqs.Queue(
            self,
            "DeadLetters",
            fifo=True,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
            removal_policy=removal,
        )
        # No SQS3 acknowledgment: cdk-nag sees that `Jobs` redrives to this queue.
        self.queue = sqs.Queue(
            self,
            "Jobs",
            fifo=True,
            # The route sets each job's deduplication id (a message's id, or the job's content hash).
            content_based_deduplication=False,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=Duration.seconds(function_timeout.to_seconds() * VISIBILITY_TIMEOUT_FACTOR),
            retention_period=RETENTION,
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.dead_letters, max_receive_count=MAX_RECEIVE_COUNT
            ),
            removal_policy=removal,
        )

    def feed(self, function: lambda_.Function) -> None:
        """The event source mapping (it grants the function what it needs to consume the queue)."""
        function.add_event_source(
            event_sources.SqsEventSource(self.queue, batch_size=BATCH_SIZE, report_batch_item_failures=True)
        )

    def grant_send(self, function: lambda_.Function) -> None:
        """SendMessage on this queue only (the queue is SQS-encrypted: no KMS permission needed)."""
        function.add_to_role_policy(
            iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[self.queue.queue_arn])
        )
