"""The operators' view: one alarm topic, an alarm per failure signal, one dashboard with every alarm.

The functions' own metrics are named in `metric_names` (what the code emits); AWS's are read through
the constructs' `metric*` methods. Every alarm names its runbook section in docs/OPERATIONS.md.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

import metric_names
from metric_names import Metric
from stacks import log_queries
from stacks.constants import SERVICE_NAME, metrics_namespace
from stacks.log_queries import LogQuery, Source
from stacks.settings import StackSettings

PERIOD = Duration.minutes(5)
RUNBOOK = "docs/OPERATIONS.md"
# Grid units of a dashboard row (CloudWatch's is 24 wide).
FULL, HALF, THIRD, QUARTER = 24, 12, 8, 6
HEIGHT = 6


# A record of the fan-out's FIFO queue this old means its room is stuck behind a failing job (retried
# every 2 s, three receives) or the fan-out is behind; a healthy room's oldest job is under a second.
OLDEST_JOB_SECONDS = 30


class ChatMonitoring(Construct):
    """The alarm topic (encrypted, TLS only), the alarms, and the `Chat-<env>-<region>` dashboard."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        settings: StackSettings,
        functions: Sequence[lambda_.Function],
        authorizer: lambda_.Function,
        stage: apigwv2.WebSocketStage,
        access_logs: logs.ILogGroup,
        table: dynamodb.ITable,
        fanout_failures: sqs.IQueue,
        fanout_jobs: sqs.IQueue,
        fanout_dead_letters: sqs.IQueue,
    ) -> None:
        super().__init__(scope, id_)
        self._namespace = metrics_namespace(settings.env_name)
        self._stack_name = Stack.of(self).stack_name
        self.alarms: list[cloudwatch.Alarm] = []
        self.topic = self._topic(settings)
        self._action = cloudwatch_actions.SnsAction(self.topic)

        self._alarm_on_functions(functions, authorizer)
        self._alarm_on_api_and_table(stage, table)
        self.alarm(
            "FanoutUndelivered",
            fanout_failures.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum"),
            "A fan-out failed three times (FanoutFunction and its two retries): some posts were not made",
        )
        self.alarm(
            "FanoutJobsDeadLettered",
            fanout_dead_letters.metric_approximate_number_of_messages_visible(
                period=PERIOD, statistic="Maximum"
            ),
            "A room's ordered fan-out job failed three receives and went to the dead-letter queue: its "
            "frame was not delivered live (clients fill the gap from history); the room goes on",
        )
        self.alarm(
            "FanoutJobsDelayed",
            fanout_jobs.metric_approximate_age_of_oldest_message(period=PERIOD, statistic="Maximum"),
            f"A room's ordered fan-out job waited {OLDEST_JOB_SECONDS} s or more: a room is retrying a "
            "failed job, or the fan-out is behind",
            threshold=OLDEST_JOB_SECONDS,
        )
        self._log_groups = {
            Source.ACCESS_LOGS: [access_logs],
            Source.AUTHORIZER: [authorizer.log_group],
            Source.CHAT_FUNCTIONS: [f.log_group for f in functions if f is not authorizer],
        }
        for query in log_queries.QUERIES:
            logs.CfnQueryDefinition(
                self,
                f"{query.key}Query",
                name=f"{self._stack_name}/{query.name}",
                query_string=query.query,
                log_group_names=self._log_group_names(query),
            )
        # Last: the dashboard's alarm widget shows the alarms made so far.
        self.dashboard = self._dashboard(settings, functions, stage, table)

    def alarm(
        self,
        id_: str,
        metric: cloudwatch.IMetric,
        description: str,
        *,
        runbook: str | None = None,
        threshold: float = 1,
    ) -> None:
        """An alarm on ≥ `threshold` in 5 minutes, to the topic, named `<stack>-<id>`, naming its runbook.

        `runbook` is the heading of its section in docs/OPERATIONS.md, by default the alarm's id; a
        test fails when no section has that heading. Alarms are made before the dashboard, whose
        alarm widget lists them (a test fails on an alarm missing from it).
        """
        alarm = cloudwatch.Alarm(
            self,
            id_,
            alarm_name=f"{self._stack_name}-{id_}",
            metric=metric,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=f'{description}. Runbook: {RUNBOOK}, "{runbook or id_}"',
        )
        alarm.add_alarm_action(self._action)
        self.alarms.append(alarm)

    def _alarm_on_functions(
        self, functions: Sequence[lambda_.Function], authorizer: lambda_.Function
    ) -> None:
        for function in functions:
            name = function.node.id
            self.alarm(
                f"{name}Throttles",
                function.metric_throttles(period=PERIOD),
                f"{name} was throttled",
                runbook="<Function>Throttles",
            )
        # Lambda's Errors of the authorizer count every refused token (API Gateway's contract is that
        # the authorizer raises "Unauthorized"), so its own failure metrics are watched instead.
        for reason in (metric_names.AUTHORIZER_FAILED_REASON, metric_names.KEYS_UNAVAILABLE_REASON):
            self.alarm(
                f"Authorizer{reason.title().replace('_', '')}",
                self._metric(metric_names.TOKEN_REJECTED, reason),
                f"The authorizer failed to decide ({reason}): handshakes get 500",
            )
        for function in functions:
            if function is not authorizer:
                name = function.node.id
                self.alarm(
                    f"{name}Errors",
                    function.metric_errors(period=PERIOD),
                    f"{name} crashed or timed out",
                    runbook="<Function>Errors",
                )
        self.alarm(
            "RouteInternalErrors",
            self._metric(metric_names.ERROR_REPLIES, metric_names.INTERNAL_ERROR_CODE),
            "A route function answered INTERNAL_ERROR",
        )

    def _alarm_on_api_and_table(self, stage: apigwv2.WebSocketStage, table: dynamodb.ITable) -> None:
        self.alarm(
            "ApiIntegrationErrors",
            stage.metric("IntegrationError", period=PERIOD, statistic="Sum"),
            "Integrations answered the WebSocket API with 4xx/5xx",
        )
        # WebSocket APIs publish no 5XXError metric; ExecutionError counts API Gateway's own failures.
        self.alarm(
            "ApiExecutionErrors",
            stage.metric("ExecutionError", period=PERIOD, statistic="Sum"),
            "The WebSocket API failed to call an integration (5xx)",
        )
        for metric_name in ("ReadThrottleEvents", "WriteThrottleEvents"):
            self.alarm(
                f"Table{metric_name}",
                table.metric(metric_name, period=PERIOD, statistic="Sum"),
                f"The chat table throttled requests ({metric_name})",
                runbook="TableReadThrottleEvents, TableWriteThrottleEvents",
            )

    def _dashboard(
        self,
        settings: StackSettings,
        functions: Sequence[lambda_.Function],
        stage: apigwv2.WebSocketStage,
        table: dynamodb.ITable,
    ) -> cloudwatch.Dashboard:
        dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=f"{self._stack_name}-{Aws.REGION}",
            default_interval=Duration.hours(3),
        )
        dashboard.add_widgets(*self._overview_widgets(settings))
        dashboard.add_widgets(*self._connection_widgets(stage))
        dashboard.add_widgets(*self._message_widgets())
        dashboard.add_widgets(*self._error_widgets(stage))
        for function in functions:
            dashboard.add_widgets(*self._function_widgets(function))
        dashboard.add_widgets(*self._table_widgets(table))
        dashboard.add_widgets(
            *(self._log_widget(q) for q in (log_queries.REFUSED_HANDSHAKES, log_queries.CHAT_ERRORS))
        )
        return dashboard

    def _topic(self, settings: StackSettings) -> sns.Topic:
        # A customer managed key: CloudWatch cannot publish to a topic under the AWS managed SNS key.
        key = kms.Key(
            self,
            "TopicKey",
            enable_key_rotation=True,
            description="Encrypts the chat alarm topic",
            # KMS keys default to RETAIN; a disposable environment should not leave one behind per deploy.
            removal_policy=RemovalPolicy.RETAIN if settings.retain_data else RemovalPolicy.DESTROY,
        )
        key.grant(iam.ServicePrincipal("cloudwatch.amazonaws.com"), "kms:Decrypt", "kms:GenerateDataKey*")
        topic = sns.Topic(self, "AlarmTopic", master_key=key, enforce_ssl=True)
        if settings.alarm_email:
            topic.add_subscription(subscriptions.EmailSubscription(settings.alarm_email))
        return topic

    # The functions' own metrics (EMF), with the Powertools `service` dimension.

    def _metric(
        self, metric: Metric, value: str | None = None, *, statistic: str = "Sum", label: str | None = None
    ) -> cloudwatch.Metric:
        """One series of a metric the functions publish; `value` picks one value of its dimension."""
        dimensions = {"service": SERVICE_NAME}
        if value is not None:
            if metric.dimension is None:
                raise ValueError(f"{metric.name} has no dimension")
            dimensions[metric.dimension] = value
        return cloudwatch.Metric(
            namespace=self._namespace,
            metric_name=metric.name,
            dimensions_map=dimensions,
            period=PERIOD,
            statistic=statistic,
            label=label,
        )

    def _by_dimension(self, metric: Metric) -> cloudwatch.MathExpression:
        """Every series of a metric, one line per value of its dimension, whatever values occur."""
        if metric.dimension is None:
            raise ValueError(f"{metric.name} has no dimension")
        schema = f"{{{self._namespace},service,{metric.dimension}}}"
        query = f'{schema} MetricName="{metric.name}" service="{SERVICE_NAME}"'
        return cloudwatch.MathExpression(
            expression=f"SEARCH('{query}', 'Sum', {int(PERIOD.to_seconds())})",
            label=f"{metric.name} ${{PROP('Dim.{metric.dimension}')}}",
            period=PERIOD,
        )

    def _percentiles(self, metric: Metric) -> list[cloudwatch.IMetric]:
        return [self._metric(metric, statistic=p, label=f"{metric.name} {p}") for p in ("p50", "p99")]

    # Widgets, row by row.

    def _overview_widgets(self, settings: StackSettings) -> list[cloudwatch.IWidget]:
        return [
            cloudwatch.TextWidget(
                markdown=(
                    f"# Chat ({settings.env_name})\n"
                    f"Every alarm below has a runbook section in `{RUNBOOK}`; "
                    f"the functions' own metrics are in the `{self._namespace}` namespace."
                ),
                width=FULL,
                height=2,
            ),
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=list(self.alarms), width=FULL, height=HEIGHT),
        ]

    def _connection_widgets(self, stage: apigwv2.WebSocketStage) -> list[cloudwatch.IWidget]:
        return [
            _graph(
                "Connections opened, closed and refused",
                self._metric(metric_names.CONNECTIONS_OPENED, label="opened"),
                self._metric(metric_names.CONNECTIONS_CLOSED, label="closed"),
                self._by_dimension(metric_names.CONNECTIONS_REFUSED),
                width=QUARTER,
            ),
            _graph(
                "Authorizer decisions by reason",
                self._metric(metric_names.TOKEN_ACCEPTED, label="accepted"),
                self._by_dimension(metric_names.TOKEN_REJECTED),
                width=QUARTER,
            ),
            _graph("Frames per route", self._by_dimension(metric_names.FRAMES), width=QUARTER),
            _graph(
                "API Gateway: connects and messages",
                stage.metric("ConnectCount", period=PERIOD, statistic="Sum"),
                stage.metric("MessageCount", period=PERIOD, statistic="Sum"),
                width=QUARTER,
            ),
        ]

    def _message_widgets(self) -> list[cloudwatch.IWidget]:
        return [
            _graph("Messages stored", self._metric(metric_names.MESSAGES_STORED), width=QUARTER),
            _graph(
                "Posts delivered, gone and failed by kind",
                self._metric(metric_names.POSTS_DELIVERED, label="delivered"),
                self._metric(metric_names.POSTS_GONE, label="gone"),
                self._metric(metric_names.STALE_CONNECTIONS_REMOVED, label="gone, removed"),
                self._metric(metric_names.GONE_WHILE_CONNECTING, label="410 while connecting, kept"),
                self._by_dimension(metric_names.POST_FAILURES),
                width=QUARTER,
            ),
            _graph("Fan-out duration (ms)", *self._percentiles(metric_names.FANOUT_DURATION), width=QUARTER),
            _graph("Sender's ack latency (ms)", *self._percentiles(metric_names.ACK_LATENCY), width=QUARTER),
        ]

    def _error_widgets(self, stage: apigwv2.WebSocketStage) -> list[cloudwatch.IWidget]:
        return [
            _graph("Error replies by code", self._by_dimension(metric_names.ERROR_REPLIES), width=THIRD),
            _graph(
                "Lifecycle failures",
                self._metric(metric_names.DISCONNECT_FAILURES, label="disconnect cleanup failed"),
                self._metric(metric_names.UNEXPECTED_ROUTES, label="unexpected route"),
                width=THIRD,
            ),
            _graph(
                "API Gateway: errors",
                *(
                    stage.metric(name, period=PERIOD, statistic="Sum")
                    for name in ("IntegrationError", "ClientError", "ExecutionError")
                ),
                width=THIRD,
            ),
        ]

    def _function_widgets(self, function: lambda_.Function) -> list[cloudwatch.IWidget]:
        name = function.node.id
        return [
            _graph(
                f"{name}: duration (ms)",
                *(function.metric_duration(period=PERIOD, statistic=p, label=p) for p in ("p50", "p99")),
                width=THIRD,
            ),
            _graph(
                f"{name}: invocations, errors, throttles",
                function.metric_invocations(period=PERIOD),
                function.metric_errors(period=PERIOD),
                function.metric_throttles(period=PERIOD),
                width=THIRD,
            ),
            _graph(
                f"{name}: concurrency",
                function.metric("ConcurrentExecutions", period=PERIOD, statistic="Maximum"),
                width=THIRD,
            ),
        ]

    def _table_widgets(self, table: dynamodb.ITable) -> list[cloudwatch.IWidget]:
        return [
            _graph(
                "Table: consumed capacity units",
                table.metric_consumed_read_capacity_units(period=PERIOD),
                table.metric_consumed_write_capacity_units(period=PERIOD),
                width=HALF,
            ),
            _graph(
                "Table: throttle events",
                *(
                    table.metric(name, period=PERIOD, statistic="Sum")
                    for name in ("ReadThrottleEvents", "WriteThrottleEvents")
                ),
                width=HALF,
            ),
        ]

    def _log_group_names(self, query: LogQuery) -> list[str]:
        return [group.log_group_name for group in self._log_groups[query.source]]

    def _log_widget(self, query: LogQuery) -> cloudwatch.LogQueryWidget:
        return cloudwatch.LogQueryWidget(
            title=f"Latest: {query.name.lower()}",
            log_group_names=self._log_group_names(query),
            query_string=query.query,
            view=cloudwatch.LogQueryVisualizationType.TABLE,
            width=HALF,
            height=HEIGHT,
        )


def _graph(title: str, *metrics: cloudwatch.IMetric, width: int) -> cloudwatch.GraphWidget:
    return cloudwatch.GraphWidget(title=title, left=list(metrics), width=width, height=HEIGHT)
