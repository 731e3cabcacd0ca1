"""The WebSocket API: routes, the $connect authorizer, two-way routes, stage and access logs."""

from __future__ import annotations

import json
import re

from aws_cdk.assertions import Match

import route_keys
from tests.infrastructure.conftest import Synth

# The route keys, named once (tests/chat holds each handler's dispatch table to its group): the
# template must route exactly these, each to its function.
ROUTE_FUNCTIONS = {
    route_key: function
    for function, route_keys_of_function in route_keys.ROUTES_BY_FUNCTION.items()
    for route_key in route_keys_of_function
}


def routes_by_key(synth: Synth) -> dict[str, tuple[str, dict]]:
    routes = synth.resources("AWS::ApiGatewayV2::Route")
    return {route["Properties"]["RouteKey"]: (logical_id, route) for logical_id, route in routes.items()}


def test_route_selection_is_the_frame_action(dev: Synth) -> None:
    dev.template.has_resource_properties(
        "AWS::ApiGatewayV2::Api",
        {"ProtocolType": "WEBSOCKET", "RouteSelectionExpression": "$request.body.action"},
    )


def test_every_protocol_action_has_a_route_served_by_its_function_group(each_env: Synth) -> None:
    routes = routes_by_key(each_env)
    assert set(routes) == {*route_keys.ACTIONS, route_keys.CONNECT, route_keys.DISCONNECT, route_keys.DEFAULT}
    assert set(routes) == set(ROUTE_FUNCTIONS)
    integrations = each_env.resources("AWS::ApiGatewayV2::Integration")
    for route_key, (_, route) in routes.items():
        integration_id = route["Properties"]["Target"]["Fn::Join"][1][1]["Ref"]
        uri = json.dumps(integrations[integration_id]["Properties"]["IntegrationUri"])
        function_id = each_env.logical_id("AWS::Lambda::Function", f"/{ROUTE_FUNCTIONS[route_key]}/")
        assert function_id in uri, f"{route_key} is not served by {ROUTE_FUNCTIONS[route_key]}"


def test_request_authorizer_reads_the_id_token_from_the_query_string(each_env: Synth) -> None:
    each_env.template.resource_count_is("AWS::ApiGatewayV2::Authorizer", 1)
    authorizer_function = each_env.logical_id("AWS::Lambda::Function", "/AuthorizerFunction/")
    each_env.template.has_resource_properties(
        "AWS::ApiGatewayV2::Authorizer",
        {"AuthorizerType": "REQUEST", "IdentitySource": ["route.request.querystring.idToken"]},
    )
    (authorizer,) = each_env.resources("AWS::ApiGatewayV2::Authorizer").values()
    assert authorizer_function in json.dumps(authorizer["Properties"]["AuthorizerUri"])


def test_only_connect_is_authorized_and_by_that_authorizer(each_env: Synth) -> None:
    (authorizer_id,) = each_env.resources("AWS::ApiGatewayV2::Authorizer")
    for route_key, (_, route) in routes_by_key(each_env).items():
        props = route["Properties"]
        if route_key == "$connect":
            assert props["AuthorizationType"] == "CUSTOM"
            assert props["AuthorizerId"] == {"Ref": authorizer_id}
        else:
            assert props.get("AuthorizationType", "NONE") == "NONE", route_key
            assert "AuthorizerId" not in props, route_key


def test_every_route_but_connect_and_disconnect_replies_through_a_route_response(each_env: Synth) -> None:
    routes = routes_by_key(each_env)
    responses = each_env.resources("AWS::ApiGatewayV2::RouteResponse").values()
    routes_with_response = {r["Properties"]["RouteId"]["Ref"] for r in responses}
    assert all(r["Properties"]["RouteResponseKey"] == "$default" for r in responses)
    for route_key, (logical_id, route) in routes.items():
        two_way = route_key not in ("$connect", "$disconnect")
        selection = route["Properties"].get("RouteResponseSelectionExpression")
        assert (selection == "$default") is two_way, route_key
        assert (logical_id in routes_with_response) is two_way, route_key


def test_stage_is_named_after_the_environment_auto_deploys_and_throttles(each_env: Synth) -> None:
    settings = each_env.settings
    each_env.template.has_resource_properties(
        "AWS::ApiGatewayV2::Stage",
        {
            "StageName": each_env.env_name,
            "AutoDeploy": True,
            "DefaultRouteSettings": {
                "ThrottlingRateLimit": settings.throttle_rate_limit,
                "ThrottlingBurstLimit": settings.throttle_burst_limit,
            },
        },
    )


def test_the_routes_that_fan_out_have_a_lower_stage_throttle_than_connect(each_env: Synth) -> None:
    """Blast radius: a flood of broadcast frames is refused by API Gateway before it starves
    $connect (and the authorizer behind it) or the direct routes, which keep the stage default."""
    settings = each_env.settings
    throttle = {
        "ThrottlingRateLimit": settings.broadcast_throttle_rate_limit,
        "ThrottlingBurstLimit": settings.broadcast_throttle_burst_limit,
    }
    # Exactly the broadcast routes: $connect and the direct routes keep the stage default.
    each_env.template.has_resource_properties(
        "AWS::ApiGatewayV2::Stage",
        {"RouteSettings": Match.exact(dict.fromkeys(route_keys.BROADCAST_ROUTES, throttle))},
    )
    ((stage_id, _),) = each_env.resources("AWS::ApiGatewayV2::Stage").items()
    assert settings.broadcast_throttle_rate_limit < settings.throttle_rate_limit
    assert settings.broadcast_throttle_burst_limit < settings.throttle_burst_limit
    # CloudFormation refuses the settings of a route it has not created yet.
    route_ids = {
        key: value["Properties"]["RouteKey"]
        for key, value in each_env.resources("AWS::ApiGatewayV2::Route").items()
    }
    waits_for = {
        route_ids[key] for key in each_env.raw["Resources"][stage_id]["DependsOn"] if key in route_ids
    }
    assert waits_for >= set(route_keys.BROADCAST_ROUTES)


def test_access_logs_are_json_lines_without_query_string_or_token(each_env: Synth) -> None:
    (stage,) = each_env.resources("AWS::ApiGatewayV2::Stage").values()
    settings = stage["Properties"]["AccessLogSettings"]
    log_format = settings["Format"]
    access_logs = each_env.logical_id("AWS::Logs::LogGroup", "/AccessLogs/")
    assert settings["DestinationArn"] == {"Fn::GetAtt": [access_logs, "Arn"]}
    # Given every $context variable replaced by a value as API Gateway would render it
    # (quoted ones as strings, `messageString` as the quoted string it is, the rest as numbers)
    rendered = log_format.replace("$context.error.messageString", '"a \\"quoted\\" message"')
    rendered = re.sub(r'"\$context\.[A-Za-z.]+"', '"x"', rendered)
    rendered = re.sub(r"\$context\.[A-Za-z.]+", "1", rendered)
    # Then each line is one JSON object with the request id
    entry = json.loads(rendered)
    assert {"requestId", "routeKey", "connectionId", "status"} <= set(entry)
    # And nothing in it can carry the query string or a token
    lowered = log_format.lower()
    for forbidden in ("querystring", "token", "$input", "$request", "header", "stagevariables"):
        assert forbidden not in lowered, forbidden
    each_env.template.has_resource_properties(
        "AWS::Logs::LogGroup",
        {"RetentionInDays": Match.any_value()},
    )


def test_only_the_fan_out_function_may_manage_connections_and_only_post_and_delete_on_this_stage(
    each_env: Synth,
) -> None:
    api_id = next(iter(each_env.resources("AWS::ApiGatewayV2::Api")))
    grants = [
        (policy_id, statement)
        for policy_id, policy in each_env.resources("AWS::IAM::Policy").items()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "execute-api" in json.dumps(statement["Action"])
    ]
    (policy_id, statement), *others = grants
    assert not others
    fanout_role = each_env.logical_id("AWS::IAM::Role", "/FanoutFunctionRole/")
    policy = each_env.raw["Resources"][policy_id]["Properties"]
    assert policy["Roles"] == [{"Ref": fanout_role}]
    assert statement["Action"] == "execute-api:ManageConnections"
    resources = [resource["Fn::Join"][1] for resource in statement["Resource"]]
    assert sorted(resource[-1] for resource in resources) == [
        f"/{each_env.env_name}/{method}/@connections/*" for method in ("DELETE", "POST")
    ]
    for resource in resources:
        assert {"Ref": api_id} in resource
        assert resource[:2] == ["arn:", {"Ref": "AWS::Partition"}]


def test_account_cloudwatch_role_is_left_alone_unless_the_environment_opts_in(each_env: Synth) -> None:
    each_env.template.resource_count_is("AWS::ApiGateway::Account", 0)
