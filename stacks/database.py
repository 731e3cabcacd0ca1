"""The chat table: one DynamoDB table, `PK`/`SK` strings, on demand, TTL, encrypted, and its online
index (a sparse global secondary index over the member items that list a connection)."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from stacks.nag import acknowledge
from stacks.settings import StackSettings

TTL_ATTRIBUTE = "ttl"
# The online index as lambdas/chat/dal/keys.py names it (tests/infrastructure holds the two equal):
# keyed by `onlineKey` (a room and a shard) and `SK`, projecting what a fan-out reads of a member.
ONLINE_INDEX = "Online"
ONLINE_KEY = "onlineKey"
ONLINE_PROJECTION = ("userId", "conns")


class ChatTable(Construct):
    """Owns the table. `aws_dynamodb.Table`, not `TableV2`, which synthesizes to a global table."""

    def __init__(self, scope: Construct, id_: str, *, settings: StackSettings) -> None:
        super().__init__(scope, id_)
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name="PK", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="SK", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute=TTL_ATTRIBUTE,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=settings.point_in_time_recovery
            ),
            deletion_protection=settings.deletion_protection,
            removal_policy=RemovalPolicy.RETAIN if settings.retain_data else RemovalPolicy.DESTROY,
        )
        self.table.add_global_secondary_index(
            index_name=ONLINE_INDEX,
            partition_key=dynamodb.Attribute(name=ONLINE_KEY, type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="SK", type=dynamodb.AttributeType.STRING),
            projection_type=dynamodb.ProjectionType.INCLUDE,
            non_key_attributes=list(ONLINE_PROJECTION),
        )
        if not settings.point_in_time_recovery:
            acknowledge(
                self.table,
                "AwsSolutions-DDB3",
                f"Point-in-time recovery is off in {settings.env_name} by its settings: the data there is "
                "disposable test data; prod turns it on (and a test checks that it does).",
            )
