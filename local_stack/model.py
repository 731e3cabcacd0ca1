"""What the template defines: the WebSocket API (routes, integrations, authorizer, stage), the functions
and their asynchronous invocation settings."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local_stack.assembly import Assembly, AssemblyError
from local_stack.intrinsics import Resolver

_FUNCTION_ARN = re.compile(r"(arn:aws[a-z-]*:lambda:[^/]+?:function:[^/:]+)")


@dataclass(frozen=True)
class TemplateFunction:
    """One Lambda function: how to start it and the limits Lambda would enforce."""

    logical_id: str
    name: str
    arn: str
    handler: str
    asset_dir: Path
    environment: dict[str, str]
    timeout: float
    memory_mb: int


@dataclass(frozen=True)
class AsyncInvokeSpec:
    """A function's ``AWS::Lambda::EventInvokeConfig`` (Lambda's defaults when it has none) and the
    function's own ``DeadLetterConfig``."""

    max_retry_attempts: int = 2
    max_event_age_seconds: int = 21600
    on_success: str | None = None  # destination ARN
    on_failure: str | None = None
    dead_letter: str | None = None  # queue or topic ARN


@dataclass(frozen=True)
class AuthorizerSpec:
    function: str
    identity_sources: tuple[str, ...]


@dataclass(frozen=True)
class RouteSpec:
    key: str
    function: str | None
    authorizer: AuthorizerSpec | None = None
    two_way: bool = False


@dataclass(frozen=True)
class ApiSpec:
    api_id: str
    stage: str
    selection_expression: str
    routes: dict[str, RouteSpec]
    functions: dict[str, TemplateFunction] = field(default_factory=dict)


def api_logical_id(assembly: Assembly) -> str:
    apis = [key for key, value in assembly.of_type("AWS::ApiGatewayV2::Api").items() if _is_websocket(value)]
    if len(apis) != 1:
        raise AssemblyError(f"expected one WebSocket API in the template, found {len(apis)}")
    return apis[0]


def api_id_for(assembly: Assembly) -> str:
    """A stable 10-character API id, shaped like API Gateway's."""
    digest = hashlib.sha256(f"{assembly.stack_name}/{api_logical_id(assembly)}".encode()).hexdigest()
    return digest[:10]


def register_api_names(assembly: Assembly, resolver: Resolver) -> None:
    """Give the API its id and the API's sub-resources their logical ids as physical ids."""
    resolver.physical[api_logical_id(assembly)] = api_id_for(assembly)
    for kind in ("Route", "Integration", "Authorizer", "RouteResponse"):
        for logical_id in assembly.of_type(f"AWS::ApiGatewayV2::{kind}"):
            resolver.physical[logical_id] = logical_id
    for logical_id, stage in assembly.of_type("AWS::ApiGatewayV2::Stage").items():
        resolver.physical[logical_id] = stage["Properties"]["StageName"]


def build_api(assembly: Assembly, resolver: Resolver, local_environment: dict[str, str]) -> ApiSpec:
    """Read the API from the template; ``local_environment`` is added to every function's."""
    api_key = api_logical_id(assembly)
    api = assembly.resources[api_key]["Properties"]
    functions = {
        key: _function(assembly, resolver, key, local_environment)
        for key in assembly.of_type("AWS::Lambda::Function")
    }
    by_arn = {spec.arn: key for key, spec in functions.items()}

    def belongs(resource: dict[str, Any]) -> bool:
        return resource["Properties"].get("ApiId") == {"Ref": api_key}

    def function_of(uri: Any) -> str:
        match = _FUNCTION_ARN.search(str(resolver.resolve(uri)))
        if match is None or match.group(1) not in by_arn:
            raise AssemblyError(f"integration URI {uri!r} names no function of the template")
        return by_arn[match.group(1)]

    integrations = {
        key: function_of(value["Properties"]["IntegrationUri"])
        for key, value in assembly.of_type("AWS::ApiGatewayV2::Integration").items()
        if belongs(value)
    }
    authorizers = {
        key: AuthorizerSpec(
            function_of(value["Properties"]["AuthorizerUri"]),
            tuple(value["Properties"].get("IdentitySource", [])),
        )
        for key, value in assembly.of_type("AWS::ApiGatewayV2::Authorizer").items()
        if belongs(value)
    }
    with_responses = {
        resolver.resolve(value["Properties"]["RouteId"])
        for value in assembly.of_type("AWS::ApiGatewayV2::RouteResponse").values()
        if belongs(value) and value["Properties"].get("RouteResponseKey") == "$default"
    }
    routes: dict[str, RouteSpec] = {}
    for key, value in assembly.of_type("AWS::ApiGatewayV2::Route").items():
        if not belongs(value):
            continue
        props = value["Properties"]
        target = resolver.resolve(props.get("Target", ""))
        authorizer = None
        if props.get("AuthorizationType") == "CUSTOM":
            authorizer = authorizers[resolver.resolve(props["AuthorizerId"])]
        routes[props["RouteKey"]] = RouteSpec(
            key=props["RouteKey"],
            function=integrations.get(str(target).removeprefix("integrations/")),
            authorizer=authorizer,
            two_way=bool(props.get("RouteResponseSelectionExpression")) and key in with_responses,
        )
    stages = [value for value in assembly.of_type("AWS::ApiGatewayV2::Stage").values() if belongs(value)]
    if not stages:
        raise AssemblyError("the WebSocket API has no stage")
    return ApiSpec(
        api_id=resolver.ref(api_key),
        stage=stages[0]["Properties"]["StageName"],
        selection_expression=api.get("RouteSelectionExpression", "$request.body.action"),
        routes=routes,
        functions=functions,
    )


def _is_websocket(resource: dict[str, Any]) -> bool:
    return resource["Properties"].get("ProtocolType") == "WEBSOCKET"


def _function(
    assembly: Assembly, resolver: Resolver, logical_id: str, local_environment: dict[str, str]
) -> TemplateFunction:
    props = assembly.resources[logical_id]["Properties"]
    variables = resolver.resolve(props.get("Environment", {}).get("Variables", {}))
    return TemplateFunction(
        logical_id=logical_id,
        name=resolver.ref(logical_id),
        arn=resolver.get_att(logical_id, "Arn"),
        handler=props["Handler"],
        asset_dir=assembly.asset_dir(logical_id),
        environment={**{key: str(value) for key, value in variables.items()}, **local_environment},
        timeout=float(props.get("Timeout", 3)),
        memory_mb=int(props.get("MemorySize", 128)),
    )


def function_names(functions: dict[str, TemplateFunction]) -> dict[str, str]:
    """Logical ids by the names and ARNs the template's FunctionName properties may use."""
    return {spec.name: key for key, spec in functions.items()} | {
        spec.arn: key for key, spec in functions.items()
    }


def build_async_invoke(
    assembly: Assembly, resolver: Resolver, functions: dict[str, TemplateFunction]
) -> dict[str, AsyncInvokeSpec]:
    """Each function's asynchronous invocation settings (by logical id), from its EventInvokeConfig.

    Only the unqualified function (``Qualifier: $LATEST``, what CDK's ``configure_async_invoke`` on a
    function emits) is invoked locally, so a configuration of a version or an alias is refused.
    """
    by_name = function_names(functions)
    specs = {
        key: AsyncInvokeSpec(dead_letter=_dead_letter_target(assembly, resolver, key)) for key in functions
    }
    for logical_id, resource in assembly.of_type("AWS::Lambda::EventInvokeConfig").items():
        props = resolver.resolve(resource["Properties"])
        function = by_name.get(props["FunctionName"])
        if function is None:
            raise AssemblyError(f"{logical_id}: FunctionName {props['FunctionName']!r} is no function here")
        if props.get("Qualifier", "$LATEST") != "$LATEST":
            raise AssemblyError(
                f"{logical_id}: Qualifier {props['Qualifier']!r}: only $LATEST is invoked locally"
            )
        destinations = props.get("DestinationConfig", {})
        specs[function] = AsyncInvokeSpec(
            max_retry_attempts=int(props.get("MaximumRetryAttempts", 2)),
            max_event_age_seconds=int(props.get("MaximumEventAgeInSeconds", 21600)),
            on_success=destinations.get("OnSuccess", {}).get("Destination"),
            on_failure=destinations.get("OnFailure", {}).get("Destination"),
            dead_letter=specs[function].dead_letter,
        )
    return specs


def _dead_letter_target(assembly: Assembly, resolver: Resolver, logical_id: str) -> str | None:
    config = assembly.resources[logical_id]["Properties"].get("DeadLetterConfig", {})
    return resolver.resolve(config["TargetArn"]) if config.get("TargetArn") else None
