"""The five Lambda functions of docs/ARCHITECTURE.md, each with its own log group and its own role.

Functions are grouped by the permissions they need: the authorizer touches nothing but its logs;
each function that uses the table gets exactly the item actions its own code calls; the functions
that announce something may invoke FanoutFunction; only FanoutFunction may post to connections
(granted by the stack once the API exists). A fan-out that could not be delivered after Lambda's
two retries lands in a queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.bundling import CodeRoot, bundled_code
from stacks.constants import SERVICE_NAME, metrics_namespace
from stacks.database import ONLINE_INDEX
from stacks.fanout_queue import FanoutQueue
from stacks.nag import acknowledge
from stacks.settings import StackSettings

REPO_ROOT = Path(__file__).resolve().parent.parent
AUTHORIZER_ROOT = REPO_ROOT / "authorizer"
LAMBDAS_ROOT = REPO_ROOT / "lambdas"
# The metric names the code emits and the dashboard and alarms read: in every function's bundle.
METRIC_NAMES = CodeRoot(REPO_ROOT / "metric_names", "metric_names")
# The route keys the API routes and the handlers dispatch on: in the route functions' bundle.
ROUTE_KEYS = CodeRoot(REPO_ROOT / "route_keys", "route_keys")

RUNTIME = lambda_.Runtime.PYTHON_3_14
ARCHITECTURE = lambda_.Architecture.ARM_64

# Each function's role may do on the table what its own code calls, nothing more: every access is a
# key lookup or a Query (no Scan, no table administration). Transactions have no action of their
# own: DynamoDB checks each item's Put/Update/Delete. tests/chat/test_table_permissions.py derives
# these from the calls each function makes and compares them with the synthesized roles.
LIFECYCLE_TABLE_ACTIONS = (
    "dynamodb:GetItem",  # the user's map (the cap), a display name
    "dynamodb:Query",  # the user's memberships
    "dynamodb:PutItem",  # the connection record and map (in a transaction)
    "dynamodb:UpdateItem",  # member items' entries, online counts, the map on disconnect
    "dynamodb:DeleteItem",  # the connection record
)
DIRECT_TABLE_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",  # listRooms' rooms and last messages
    "dynamodb:Query",  # history, members, memberships (listRooms, reauth)
    # ping's liveness; reauth's new expiry on the record, the user's map and each member item
    "dynamodb:UpdateItem",
)
BROADCAST_TABLE_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:PutItem",  # messages, idempotency records, rooms, memberships, the last message
    "dynamodb:UpdateItem",  # seq, counters (rooms per user too), read positions, member items' entries
    "dynamodb:DeleteItem",  # leaveRoom's two sides; a clientRoomId record given back (in transactions)
    "dynamodb:BatchWriteItem",  # createRoom's member items
    "dynamodb:Query",  # a refused rooms counter's recount (COUNT of the user's memberships)
)
# Reads the room's members; tells an ended session once (a conditional write on its record); forgets
# gone and closed connections as $disconnect does.
FANOUT_TABLE_ACTIONS = ("dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem", "dynamodb:DeleteItem")
# Lambda's asynchronous invocation (presence, typing, a user's own tabs): two retries, then the
# on-failure queue; an event older than this is not worth delivering any more (clients catch up
# from history).
FANOUT_RETRY_ATTEMPTS = 2
FANOUT_MAX_EVENT_AGE = Duration.minutes(15)
# A room job that failed comes back after this many seconds (not the queue's visibility timeout).
FANOUT_RETRY_DELAY_SECONDS = 2


@dataclass(frozen=True)
class ChatFunctionSpec:
    """One function's shape; memory also buys CPU (signature checks, JSON, fan-out)."""

    construct_id: str
    handler: str
    description: str
    memory_mb: int
    timeout_seconds: int
    table_actions: tuple[str, ...] = ()


AUTHORIZER = ChatFunctionSpec(
    "AuthorizerFunction", "handler.lambda_handler", "Verifies the Cognito ID token on $connect", 256, 10
)
LIFECYCLE = ChatFunctionSpec(
    "LifecycleFunction",
    "chat.handlers.lifecycle.handler",
    "Routes $connect and $disconnect",
    256,
    10,
    LIFECYCLE_TABLE_ACTIONS,
)
DIRECT = ChatFunctionSpec(
    "DirectFunction",
    "chat.handlers.direct.handler",
    "Actions that only reply to the caller",
    256,
    15,
    DIRECT_TABLE_ACTIONS,
)
BROADCAST = ChatFunctionSpec(
    "BroadcastFunction",
    "chat.handlers.broadcast.handler",
    "Actions that fan out to a room",
    256,
    15,
    BROADCAST_TABLE_ACTIONS,
)
# Posting costs CPU (0.64-0.84 ms per post in botocore on a full vCPU, `make bench`; 1,769 MB buys
# one vCPU): at 1,024 MB a batch of 500 posts answered in 20 ms takes about 0.65-0.75 s, CPU and
# network balanced (docs/ARCHITECTURE.md, "The fan-out"). The timeout covers a batch whose every
# post is retried against slow answers.
FANOUT = ChatFunctionSpec(
    "FanoutFunction",
    "chat.handlers.fanout.handler",
    "Posts a frame to a room's connections",
    1024,
    60,
    FANOUT_TABLE_ACTIONS,
)


class ChatFunctions(Construct):
    """Builds the functions; exposes them as attributes for the API, grants and alarms."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        settings: StackSettings,
        bundling_mode: str,
        table: dynamodb.ITable,
        user_pool: cognito.IUserPool,
        user_pool_client: cognito.IUserPoolClient,
    ) -> None:
        super().__init__(scope, id_)
        self._settings = settings
        powertools = {
            "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
            "POWERTOOLS_METRICS_NAMESPACE": metrics_namespace(settings.env_name),
        }
        verifier = {
            "USER_POOL_ID": user_pool.user_pool_id,
            "USER_POOL_CLIENT_IDS": user_pool_client.user_pool_client_id,
            "COGNITO_REGION": Stack.of(self).region,
            "TOKEN_LEEWAY_SECONDS": str(settings.token_leeway_seconds),
        }
        if settings.required_groups:
            verifier["REQUIRED_GROUPS"] = ",".join(settings.required_groups)
        routes = {
            "TABLE_NAME": table.table_name,
            "MESSAGE_MAX_LENGTH": str(settings.message_max_length),
            "MAX_ROOM_MEMBERS": str(settings.max_room_members),
            "MAX_CONNECTIONS_PER_USER": str(settings.max_connections_per_user),
            "PRESENCE_MAX_MEMBERS": str(settings.presence_max_members),
        }
        broadcast = {
            **_rate_limit(settings, "send"),
            **_rate_limit(settings, "edit_message"),
            **_rate_limit(settings, "delete_message"),
            **_rate_limit(settings, "create_room"),
            **_rate_limit(settings, "join_room"),
            **_rate_limit(settings, "leave_room"),
            **_rate_limit(settings, "mark_read"),
            "TYPING_INTERVAL_SECONDS": _number(settings.typing_interval_seconds),
            "MAX_ROOMS_PER_USER": str(settings.max_rooms_per_user),
            "REQUIRE_VERIFIED_SENDER": "true" if settings.require_verified_sender else "false",
        }

        authorizer_code = bundled_code(
            roots=[CodeRoot(AUTHORIZER_ROOT), METRIC_NAMES],
            requirements=AUTHORIZER_ROOT / "requirements.txt",
            mode=bundling_mode,
        )
        # One Code object for the three route functions: one asset, bundled once per synth.
        routes_code = bundled_code(
            roots=[
                CodeRoot(LAMBDAS_ROOT),
                CodeRoot(AUTHORIZER_ROOT / "cognito_verifier", "cognito_verifier"),
                METRIC_NAMES,
                ROUTE_KEYS,
            ],
            requirements=LAMBDAS_ROOT / "requirements.txt",
            mode=bundling_mode,
        )

        self.authorizer = self._function(AUTHORIZER, authorizer_code, {**verifier, **powertools})
        self.fanout_queue = FanoutQueue(
            self,
            "FanoutQueue",
            function_timeout=Duration.seconds(FANOUT.timeout_seconds),
            retain=settings.retain_data,
        )
        ordered = {"FANOUT_QUEUE_URL": self.fanout_queue.queue.queue_url}
        self.fanout = self._function(
            FANOUT,
            routes_code,
            {
                **routes,
                **ordered,
                "FANOUT_RETRY_DELAY_SECONDS": str(FANOUT_RETRY_DELAY_SECONDS),
                "FANOUT_BATCH_SIZE": str(settings.fanout_batch_size),
                "SESSION_GRACE_SECONDS": str(settings.session_grace_seconds),
                **powertools,
            },
        )
        announces = {"FANOUT_FUNCTION_NAME": self.fanout.function_name}
        self.lifecycle = self._function(LIFECYCLE, routes_code, {**routes, **announces, **powertools})
        reauth = _rate_limit(settings, "reauth")
        # Reserved concurrency caps the two frame functions (settings per environment): a flood of
        # frames cannot take the concurrency $connect, the authorizer and the fan-out need.
        self.direct = self._function(
            DIRECT,
            routes_code,
            {**routes, **verifier, **reauth, **powertools},
            reserved_concurrency=settings.direct_reserved_concurrency,
        )
        self.broadcast = self._function(
            BROADCAST,
            routes_code,
            {**routes, **broadcast, **announces, **ordered, **powertools},
            reserved_concurrency=settings.broadcast_reserved_concurrency,
        )
        self.route_functions = (self.lifecycle, self.direct, self.broadcast)
        self.table_functions = (*self.route_functions, self.fanout)

        for function, spec in zip(self.table_functions, (LIFECYCLE, DIRECT, BROADCAST, FANOUT), strict=True):
            function.add_to_role_policy(
                iam.PolicyStatement(actions=list(spec.table_actions), resources=[table.table_arn])
            )
        # Only big rooms' message fan-outs read the online index.
        self.fanout.add_to_role_policy(
            iam.PolicyStatement(
                actions=["dynamodb:Query"], resources=[f"{table.table_arn}/index/{ONLINE_INDEX}"]
            )
        )
        # The function itself, not its versions and aliases (`grant_invoke` would add `<arn>:*`).
        invoke_fanout = iam.PolicyStatement(
            actions=["lambda:InvokeFunction"], resources=[self.fanout.function_arn]
        )
        for function in (self.lifecycle, self.broadcast):
            function.add_to_role_policy(invoke_fanout)
        # Only BroadcastFunction's jobs are ordered (messages, reads, joins, leaves); LifecycleFunction's
        # presence is not (docs/ARCHITECTURE.md, "Order").
        self.fanout_queue.grant_send(self.broadcast)
        self.fanout_queue.feed(self.fanout)
        self._fanout_failures(settings)

    def _fanout_failures(self, settings: StackSettings) -> None:
        """Self-invocation for batches, and the queue for fan-outs Lambda gave up on."""
        # A policy of its own: the function's default policy is a dependency of the function, so
        # naming the function's ARN there would be a cycle.
        iam.Policy(
            self,
            "FanoutInvokesItself",
            roles=[self.fanout.role] if self.fanout.role else [],
            statements=[
                iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[self.fanout.function_arn])
            ],
        )
        self.fanout_failures = sqs.Queue(
            self,
            "FanoutFailures",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
            removal_policy=RemovalPolicy.RETAIN if settings.retain_data else RemovalPolicy.DESTROY,
        )
        acknowledge(
            self.fanout_failures,
            "AwsSolutions-SQS3",
            "This queue is itself the on-failure destination of FanoutFunction's asynchronous "
            "invocations (a dead-letter queue); nothing consumes it automatically, an operator reads it.",
        )
        self.fanout.configure_async_invoke(
            retry_attempts=FANOUT_RETRY_ATTEMPTS,
            max_event_age=FANOUT_MAX_EVENT_AGE,
            on_failure=destinations.SqsDestination(self.fanout_failures),
        )

    @property
    def functions(self) -> tuple[lambda_.Function, ...]:
        """Every function of the app, in the order they were built: what the dashboard draws."""
        return tuple(child for child in self.node.children if isinstance(child, lambda_.Function))

    def _function(
        self,
        spec: ChatFunctionSpec,
        code: lambda_.Code,
        environment: dict[str, str],
        *,
        reserved_concurrency: int | None = None,
    ) -> lambda_.Function:
        """A function whose role may write to its own log group and nothing else (no managed policy)."""
        settings = self._settings
        log_group = logs.LogGroup(
            self,
            f"{spec.construct_id}Logs",
            retention=getattr(logs.RetentionDays, settings.log_retention),
            removal_policy=RemovalPolicy.RETAIN if settings.retain_data else RemovalPolicy.DESTROY,
        )
        role = iam.Role(
            self,
            f"{spec.construct_id}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{spec.construct_id} ({settings.env_name}): its own logs and what it uses",
            inline_policies={
                "WriteOwnLogs": iam.PolicyDocument(
                    statements=[
                        iam.PolicyStatement(
                            actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                            resources=[log_group.log_group_arn],
                        )
                    ]
                )
            },
        )
        return lambda_.Function(
            self,
            spec.construct_id,
            description=spec.description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=spec.handler,
            code=code,
            memory_size=spec.memory_mb,
            timeout=Duration.seconds(spec.timeout_seconds),
            reserved_concurrent_executions=reserved_concurrency,
            environment=environment,
            role=role,
            log_group=log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=getattr(lambda_.ApplicationLogLevel, settings.application_log_level),
            system_log_level_v2=getattr(lambda_.SystemLogLevel, settings.system_log_level),
        )


def _number(value: float) -> str:
    """`5.0` as "5", `0.5` as "0.5": what a person would write in the environment."""
    return str(int(value)) if value.is_integer() else str(value)


def _rate_limit(settings: StackSettings, setting: str) -> dict[str, str]:
    """A per-connection bucket's two variables, e.g. `create_room_*` as `CREATE_ROOM_RATE_PER_SECOND`."""
    variable = setting.upper()
    return {
        f"{variable}_RATE_PER_SECOND": _number(getattr(settings, f"{setting}_rate_per_second")),
        f"{variable}_BURST": str(getattr(settings, f"{setting}_burst")),
    }
