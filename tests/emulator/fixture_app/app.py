"""A tiny CDK app of fixture functions: the emulator's conformance suite runs against its template.

It uses the same L2 constructs a real WebSocket stack uses (WebSocketApi, WebSocketLambdaAuthorizer,
WebSocketLambdaIntegration, two-way routes, a stage, a table, a user pool and client), so the suite
tests the emulator alone, driven by a real synthesized template.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs

HERE = Path(__file__).parent
STAGE = "test"
TWO_WAY_ROUTES = (
    "echo",
    "nobody",
    "raise",
    "sleep",
    "crash",
    "status500",
    "post",
    "invokeAsync",
    "missingDependency",
    "sized",
)

ORDERED_VISIBILITY_SECONDS = 2
ORDERED_MAX_RECEIVE_COUNT = 2


def build_app(context: dict[str, str] | None = None) -> cdk.App:
    app = cdk.App(context=context or {})
    stack = cdk.Stack(app, "EmulatorFixture")
    table = dynamodb.Table(
        stack,
        "Events",
        partition_key=dynamodb.Attribute(name="PK", type=dynamodb.AttributeType.STRING),
        sort_key=dynamodb.Attribute(name="SK", type=dynamodb.AttributeType.STRING),
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        time_to_live_attribute="ttl",
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )
    pool = cognito.UserPool(
        stack,
        "Users",
        sign_in_aliases=cognito.SignInAliases(email=True),
        password_policy=cognito.PasswordPolicy(min_length=12),
    )
    client = pool.add_client("Spa", auth_flows=cognito.AuthFlow(user_password=True), generate_secret=False)
    environment = {
        "TABLE_NAME": table.table_name,
        "USER_POOL_ID": pool.user_pool_id,
        "USER_POOL_CLIENT_IDS": client.user_pool_client_id,
        "FIXTURE_REGION": cdk.Aws.REGION,
    }

    def function(
        name: str, handler: str, *, timeout: int, code: str = "functions", **options: Any
    ) -> lambda_.Function:
        fn = lambda_.Function(
            stack,
            name,
            runtime=lambda_.Runtime.PYTHON_3_13,
            handler=handler,
            code=lambda_.Code.from_asset(str(HERE / code)),
            timeout=cdk.Duration.seconds(timeout),
            environment=environment,
            **options,
        )
        table.grant_read_write_data(fn)
        return fn

    authorizer_fn = function("AuthorizerFunction", "authorizer.handler", timeout=2)
    lifecycle_fn = function("LifecycleFunction", "lifecycle.handler", timeout=3)
    routes_fn = function("RoutesFunction", "routes.handler", timeout=2)
    missing_fn = function(
        "MissingDependencyFunction", "handler.handler", timeout=3, code="missing_dependency"
    )
    # Invoked asynchronously by the route function: failures retried twice, then to a queue.
    # Successes' records go to a queue too.
    async_failures = sqs.Queue(stack, "AsyncFailures")
    async_successes = sqs.Queue(stack, "AsyncSuccesses")
    async_fn = function("AsyncTargetFunction", "async_target.handler", timeout=2)
    async_fn.configure_async_invoke(
        retry_attempts=2,
        max_event_age=cdk.Duration.hours(1),
        on_failure=destinations.SqsDestination(async_failures),
        on_success=destinations.SqsDestination(async_successes),
    )
    # The same, with the shortest maximum event age: the first retry (one minute later) is too old.
    # Successes' records go to the first function (a function destination); failed events also go
    # to the function's dead-letter queue.
    aged_failures = sqs.Queue(stack, "AgedFailures")
    aged_dead_letters = sqs.Queue(stack, "AgedDeadLetters")
    aged_fn = function(
        "AgedTargetFunction", "async_target.handler", timeout=2, dead_letter_queue=aged_dead_letters
    )
    aged_fn.configure_async_invoke(
        retry_attempts=2,
        max_event_age=cdk.Duration.seconds(60),
        on_failure=destinations.SqsDestination(aged_failures),
        on_success=destinations.LambdaDestination(async_fn, response_only=False),
    )
    for target, variable in (
        (async_fn, "ASYNC_TARGET_FUNCTION_NAME"),
        (aged_fn, "AGED_TARGET_FUNCTION_NAME"),
    ):
        routes_fn.add_environment(variable, target.function_name)
        target.grant_invoke(routes_fn)

    # A FIFO queue feeding a function through an event source mapping, as the fan-out's jobs queue
    # does, with a short visibility timeout (records a batch keeps come back after 2 s) and a
    # FIFO dead-letter queue after two receives.
    ordered_dead_letters = sqs.Queue(stack, "OrderedDeadLetters", fifo=True)
    ordered = sqs.Queue(
        stack,
        "Ordered",
        fifo=True,
        content_based_deduplication=True,
        visibility_timeout=cdk.Duration.seconds(ORDERED_VISIBILITY_SECONDS),
        dead_letter_queue=sqs.DeadLetterQueue(
            queue=ordered_dead_letters, max_receive_count=ORDERED_MAX_RECEIVE_COUNT
        ),
    )
    consumer_fn = function("QueueConsumerFunction", "queue_consumer.handler", timeout=2)
    consumer_fn.add_event_source(
        event_sources.SqsEventSource(ordered, batch_size=10, report_batch_item_failures=True)
    )

    api = apigw.WebSocketApi(
        stack,
        "Api",
        connect_route_options=apigw.WebSocketRouteOptions(
            integration=integrations.WebSocketLambdaIntegration("ConnectIntegration", lifecycle_fn),
            authorizer=authorizers.WebSocketLambdaAuthorizer(
                "Authorizer", authorizer_fn, identity_source=["route.request.querystring.idToken"]
            ),
        ),
        disconnect_route_options=apigw.WebSocketRouteOptions(
            integration=integrations.WebSocketLambdaIntegration("DisconnectIntegration", lifecycle_fn)
        ),
        default_route_options=apigw.WebSocketRouteOptions(
            integration=integrations.WebSocketLambdaIntegration("DefaultIntegration", routes_fn),
            return_response=True,
        ),
    )
    for route in TWO_WAY_ROUTES:
        target = missing_fn if route == "missingDependency" else routes_fn
        api.add_route(
            route,
            integration=integrations.WebSocketLambdaIntegration(f"{route}Integration", target),
            return_response=True,
        )
    api.add_route(
        "oneway", integration=integrations.WebSocketLambdaIntegration("OnewayIntegration", routes_fn)
    )
    stage = apigw.WebSocketStage(stack, "Stage", web_socket_api=api, stage_name=STAGE, auto_deploy=True)
    api.grant_manage_connections(routes_fn)
    api.grant_manage_connections(async_fn)
    cdk.CfnOutput(stack, "WebSocketUrl", value=stage.url)
    cdk.CfnOutput(stack, "UserPoolId", value=pool.user_pool_id)
    cdk.CfnOutput(stack, "UserPoolClientId", value=client.user_pool_client_id)
    cdk.CfnOutput(stack, "Region", value=cdk.Aws.REGION)
    cdk.CfnOutput(stack, "TableName", value=table.table_name)
    cdk.CfnOutput(stack, "AsyncFailuresQueueUrl", value=async_failures.queue_url)
    cdk.CfnOutput(stack, "AsyncSuccessesQueueUrl", value=async_successes.queue_url)
    cdk.CfnOutput(stack, "AgedFailuresQueueUrl", value=aged_failures.queue_url)
    cdk.CfnOutput(stack, "AgedDeadLettersQueueUrl", value=aged_dead_letters.queue_url)
    cdk.CfnOutput(stack, "OrderedQueueUrl", value=ordered.queue_url)
    cdk.CfnOutput(stack, "OrderedDeadLettersQueueUrl", value=ordered_dead_letters.queue_url)
    cdk.CfnOutput(stack, "QueueConsumerFunctionName", value=consumer_fn.function_name)
    return app
