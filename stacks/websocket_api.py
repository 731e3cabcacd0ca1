"""The WebSocket API: routes for every protocol action, the $connect authorizer, the stage, access logs."""

from __future__ import annotations

import jsii
from aws_cdk import Aws, CfnElement, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct, IConstruct

import route_keys
from stacks.constants import APP_NAME
from stacks.nag import acknowledge, nag_reference
from stacks.settings import StackSettings

ROUTE_SELECTION_EXPRESSION = "$request.body.action"
ID_TOKEN_IDENTITY_SOURCE = "route.request.querystring.idToken"
# The `@connections` calls the fan-out makes: PostToConnection, and DeleteConnection after a grace.
CONNECTION_METHODS = ("POST", "DELETE")

# One JSON object per line. Deliberately no query string, no headers, no token: only $context values
# that cannot carry the `idToken`. `$context.error.messageString` is already a quoted JSON string.
_ACCESS_LOG_FIELDS = (
    ("requestId", "$context.requestId", True),
    ("extendedRequestId", "$context.extendedRequestId", True),
    ("requestTime", "$context.requestTimeEpoch", False),
    ("eventType", "$context.eventType", True),
    ("routeKey", "$context.routeKey", True),
    ("connectionId", "$context.connectionId", True),
    ("status", "$context.status", True),
    ("sourceIp", "$context.identity.sourceIp", True),
    ("userId", "$context.authorizer.principalId", True),
    ("authorizerError", "$context.authorizer.error", True),
    ("integrationStatus", "$context.integration.status", True),
    ("integrationLatencyMs", "$context.integration.latency", True),
    ("integrationError", "$context.integration.error", True),
    ("errorMessage", "$context.error.messageString", False),
)
ACCESS_LOG_FORMAT = (
    "{" + ",".join(f'"{name}":' + (f'"{v}"' if quoted else v) for name, v, quoted in _ACCESS_LOG_FIELDS) + "}"
)


class ChatWebSocketApi(Construct):
    """The API, one stage named after the environment, and the `@connections` grant for posters."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        settings: StackSettings,
        authorizer_function: lambda_.IFunction,
        lifecycle_function: lambda_.IFunction,
        direct_function: lambda_.IFunction,
        broadcast_function: lambda_.IFunction,
    ) -> None:
        super().__init__(scope, id_)
        lifecycle = integrations.WebSocketLambdaIntegration("Lifecycle", lifecycle_function)
        direct = integrations.WebSocketLambdaIntegration("Direct", direct_function)
        broadcast = integrations.WebSocketLambdaIntegration("Broadcast", broadcast_function)

        self.api = apigwv2.WebSocketApi(
            self,
            "Api",
            api_name=f"{APP_NAME}-{settings.env_name}",
            description=f"Chat WebSocket API ({settings.env_name})",
            route_selection_expression=ROUTE_SELECTION_EXPRESSION,
            connect_route_options=apigwv2.WebSocketRouteOptions(
                integration=lifecycle,
                authorizer=authorizers.WebSocketLambdaAuthorizer(
                    "IdTokenAuthorizer", authorizer_function, identity_source=[ID_TOKEN_IDENTITY_SOURCE]
                ),
            ),
            disconnect_route_options=apigwv2.WebSocketRouteOptions(integration=lifecycle),
            # Two-way: the function's return value is the reply (see docs/INFRASTRUCTURE.md).
            default_route_options=apigwv2.WebSocketRouteOptions(integration=direct, return_response=True),
        )
        route_integrations = {
            **dict.fromkeys(route_keys.DIRECT_ACTIONS, direct),
            **dict.fromkeys(route_keys.BROADCAST_ROUTES, broadcast),
        }
        routes = {
            route_key: self.api.add_route(route_key, integration=integration, return_response=True)
            for route_key, integration in route_integrations.items()
        }
        for route in routes.values():
            _acknowledge_authorized_at_connect(route)
        for route_id in (f"{route_keys.DISCONNECT}-Route", f"{route_keys.DEFAULT}-Route"):
            _acknowledge_authorized_at_connect(self.api.node.find_child(route_id))

        self.access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=getattr(logs.RetentionDays, settings.log_retention),
            removal_policy=RemovalPolicy.RETAIN if settings.retain_data else RemovalPolicy.DESTROY,
        )
        self.stage = apigwv2.WebSocketStage(
            self,
            "Stage",
            web_socket_api=self.api,
            stage_name=settings.env_name,
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(
                rate_limit=settings.throttle_rate_limit, burst_limit=settings.throttle_burst_limit
            ),
            access_log_settings=JsonAccessLogs(self.access_logs),
        )
        self._throttle_broadcast_routes(settings, [routes[key] for key in route_keys.BROADCAST_ROUTES])
        if settings.manage_api_gateway_account_role:
            self.stage.node.add_dependency(ApiGatewayAccountLogging(self, "AccountLogging"))

    def _throttle_broadcast_routes(
        self, settings: StackSettings, routes: list[apigwv2.WebSocketRoute]
    ) -> None:
        """The routes that fan out get a stage throttle of their own, below the default that
        $connect and the direct routes keep: a flood of them is refused by API Gateway first.

        WebSocketStage has no per-route throttle, so the CloudFormation stage gets `RouteSettings`;
        the stage waits for the routes (CloudFormation refuses settings of a route it has not made).
        """
        stage = self.stage.node.default_child
        if not isinstance(stage, apigwv2.CfnStage):
            raise TypeError("the WebSocket stage construct has no CloudFormation stage")
        # `RouteSettings` is a JSON map in CloudFormation: CDK passes its keys as written.
        throttle = {
            "ThrottlingRateLimit": settings.broadcast_throttle_rate_limit,
            "ThrottlingBurstLimit": settings.broadcast_throttle_burst_limit,
        }
        stage.add_property_override(
            "RouteSettings", {route_key: throttle for route_key in route_keys.BROADCAST_ROUTES}
        )
        for route in routes:
            self.stage.node.add_dependency(route)

    def grant_manage_connections(self, function: lambda_.IFunction) -> None:
        """`ManageConnections` for POST (posting) and DELETE (closing a connection whose session ended
        after its grace) on this API's stage only: what the fan-out needs, nothing more."""
        if function.role is None:
            raise ValueError("grant_manage_connections needs a function with a role")
        stage_name = self.stage.stage_name
        # Pseudo parameters, not the stack's region/account, so the ARN (and the finding) has one shape.
        connections = [
            Stack.of(self).format_arn(
                partition=Aws.PARTITION,
                region=Aws.REGION,
                account=Aws.ACCOUNT_ID,
                service="execute-api",
                resource=self.api.api_id,
                resource_name=f"{stage_name}/{method}/@connections/*",
            )
            for method in CONNECTION_METHODS
        ]
        function.role.add_to_principal_policy(
            iam.PolicyStatement(actions=["execute-api:ManageConnections"], resources=connections)
        )
        api_resource = self.api.node.default_child
        if not isinstance(api_resource, CfnElement):
            raise TypeError("the WebSocket API construct has no CloudFormation resource")
        api_ref = nag_reference(api_resource)
        for method in CONNECTION_METHODS:
            acknowledge(
                function.role,
                "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:"
                f"{api_ref}/{stage_name}/{method}/@connections/*]",
                "Connection ids are created at run time, one per client: the wildcard is the connection id "
                f"only, under {method} on this API's own stage; no other API, stage or method is reachable.",
            )


def _acknowledge_authorized_at_connect(route: IConstruct) -> None:
    acknowledge(
        route,
        "AwsSolutions-APIG4",
        "WebSocket APIs authorize once, on $connect (API Gateway accepts an authorizer nowhere else): "
        "this route only receives frames of a connection the ID-token authorizer allowed, and its "
        "function takes the caller's identity from requestContext.authorizer alone.",
    )


@jsii.implements(apigwv2.IAccessLogSettings)
class JsonAccessLogs:
    """Access log settings (an interface, not a struct, in aws_apigatewayv2): JSON lines to a log group."""

    def __init__(self, log_group: logs.ILogGroup) -> None:
        self._destination = apigwv2.LogGroupLogDestination(log_group)

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigateway.AccessLogFormat:
        return apigateway.AccessLogFormat.custom(ACCESS_LOG_FORMAT)


class ApiGatewayAccountLogging(Construct):
    """Sets the region-wide API Gateway CloudWatch role that WebSocket access logging requires.

    This is an account setting shared by every API in the region, so the stack only owns it when
    `manage_api_gateway_account_role` is true; otherwise the platform team sets it once.
    """

    def __init__(self, scope: Construct, id_: str) -> None:
        super().__init__(scope, id_)
        self.role = iam.Role(
            self,
            "CloudWatchRole",
            assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            description="API Gateway (account-wide) writes access and execution logs to CloudWatch",
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name(
                    "service-role/AmazonAPIGatewayPushToCloudWatchLogs"
                )
            ],
        )
        self.account = apigateway.CfnAccount(self, "Account", cloud_watch_role_arn=self.role.role_arn)
        acknowledge(
            self.role,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AmazonAPIGatewayPushToCloudWatchLogs]",
            "AWS's own policy for API Gateway's account-level logging role: the role serves every API "
            "in the region, so it cannot be scoped to this stack's log groups; it is only created "
            "when the environment opts in with manage_api_gateway_account_role.",
        )
