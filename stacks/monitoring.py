"""Alarms on function errors and throttles, API errors and table throttling, sent to one topic."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from stacks.constants import SERVICE_NAME, metrics_namespace
from stacks.settings import Settings

PERIOD = Duration.minutes(5)
# Metrics the function code publishes (authorizer/telemetry.py, lambdas/chat/handlers/runtime.py).
AUTHORIZER_REJECTED_METRIC = "TokenRejected"
AUTHORIZER_INTERNAL_ERROR = "internal_error"
AUTHORIZER_KEYS_UNAVAILABLE = "keys_unavailable"
ROUTE_ERRORS_METRIC = "Errors"
ROUTE_INTERNAL_ERROR = "INTERNAL_ERROR"


class ChatMonitoring(Construct):
    """One SNS topic per environment (encrypted, TLS only), and an alarm per failure signal."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        settings: Settings,
        authorizer: lambda_.Function,
        route_functions: Sequence[lambda_.Function],
        stage: apigwv2.WebSocketStage,
        table: dynamodb.ITable,
        fanout_failures: sqs.IQueue,
    ) -> None:
        super().__init__(scope, id_)
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
        self.topic = sns.Topic(self, "AlarmTopic", master_key=key, enforce_ssl=True)
        if settings.alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(settings.alarm_email))
        self._action = cloudwatch_actions.SnsAction(self.topic)

        for function in (authorizer, *route_functions):
            name = function.node.id
            self._alarm(f"{name}Throttles", function.metric_throttles(period=PERIOD), f"{name} was throttled")
        # Lambda's Errors of the authorizer count every refused token (API Gateway's contract is that
        # the authorizer raises "Unauthorized"), so its own failure metrics are watched instead.
        for reason in (AUTHORIZER_INTERNAL_ERROR, AUTHORIZER_KEYS_UNAVAILABLE):
            self._alarm(
                f"Authorizer{reason.title().replace('_', '')}",
                self._app_metric(settings, AUTHORIZER_REJECTED_METRIC, reason=reason),
                f"The authorizer failed to decide ({reason}): handshakes get 500",
            )
        for function in route_functions:
            name = function.node.id
            self._alarm(
                f"{name}Errors", function.metric_errors(period=PERIOD), f"{name} crashed or timed out"
            )
        self._alarm(
            "RouteInternalErrors",
            self._app_metric(settings, ROUTE_ERRORS_METRIC, Code=ROUTE_INTERNAL_ERROR),
            "A route function answered INTERNAL_ERROR",
        )
        self._alarm(
            "ApiIntegrationErrors",
            stage.metric("IntegrationError", period=PERIOD, statistic="Sum"),
            "Integrations answered the WebSocket API with 4xx/5xx",
        )
        # WebSocket APIs publish no 5XXError metric; ExecutionError counts API Gateway's own failures.
        self._alarm(
            "ApiExecutionErrors",
            stage.metric("ExecutionError", period=PERIOD, statistic="Sum"),
            "The WebSocket API failed to call an integration (5xx)",
        )
        self._alarm(
            "FanoutUndelivered",
            fanout_failures.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum"),
            "A fan-out failed three times (FanoutFunction and its two retries): some posts were not made",
        )
        for metric_name in ("ReadThrottleEvents", "WriteThrottleEvents"):
            self._alarm(
                f"Table{metric_name}",
                table.metric(metric_name, period=PERIOD, statistic="Sum"),
                f"The chat table throttled requests ({metric_name})",
            )

    @staticmethod
    def _app_metric(settings: Settings, name: str, **dimensions: str) -> cloudwatch.Metric:
        """A metric the functions publish themselves (EMF), with the Powertools `service` dimension."""
        return cloudwatch.Metric(
            namespace=metrics_namespace(settings.env_name),
            metric_name=name,
            dimensions_map={"service": SERVICE_NAME, **dimensions},
            period=PERIOD,
            statistic="Sum",
        )

    def _alarm(self, id_: str, metric: cloudwatch.IMetric, description: str) -> None:
        alarm = cloudwatch.Alarm(
            self,
            id_,
            metric=metric,
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
        alarm.add_alarm_action(self._action)
