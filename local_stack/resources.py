"""Create the template's table(s), user pool(s) and client(s) in moto, from their own definitions.

CloudFormation properties are mapped onto the matching API call through botocore's own service model
(names and types), so every property the API accepts is carried over and nothing is listed twice.
"""

from __future__ import annotations

import logging
from typing import Any

import boto3
from botocore.model import Shape

from local_stack.assembly import Assembly
from local_stack.intrinsics import Resolver

log = logging.getLogger("local_stack.resources")

TABLE_TYPES = ("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable")


def client(service: str, endpoint: str, region: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def api_parameters(aws_client: Any, operation: str, properties: dict[str, Any]) -> dict[str, Any]:
    """The properties the operation accepts, coerced to the types its model declares."""
    shape = aws_client.meta.service_model.operation_model(operation).input_shape
    return {
        key: _coerce(shape.members[key], value) for key, value in properties.items() if key in shape.members
    }


def _coerce(shape: Shape, value: Any) -> Any:
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        members = shape.members  # type: ignore[attr-defined]
        return {key: _coerce(members[key], item) for key, item in value.items() if key in members}
    if kind == "list" and isinstance(value, list):
        return [_coerce(shape.member, item) for item in value]  # type: ignore[attr-defined]
    if kind == "map" and isinstance(value, dict):
        return {key: _coerce(shape.value, item) for key, item in value.items()}  # type: ignore[attr-defined]
    if kind == "boolean" and isinstance(value, str):
        return value.lower() == "true"
    if kind in {"integer", "long"} and isinstance(value, str):
        return int(value)
    if kind == "string" and isinstance(value, bool):
        return "true" if value else "false"
    if kind == "string" and isinstance(value, int):
        return str(value)
    return value


def create_tables(assembly: Assembly, resolver: Resolver, endpoint: str, region: str) -> None:
    dynamodb = client("dynamodb", endpoint, region)
    for kind in TABLE_TYPES:
        for logical_id, resource in assembly.of_type(kind).items():
            props = resolver.resolve(resource["Properties"])
            name = props.get("TableName") or resolver.default_name(logical_id)
            params = api_parameters(dynamodb, "CreateTable", {**props, "TableName": name})
            params.setdefault("BillingMode", "PAY_PER_REQUEST")
            if "SSESpecification" in props:
                sse = props["SSESpecification"]
                params["SSESpecification"] = {
                    "Enabled": bool(sse.get("SSEEnabled")),
                    "SSEType": sse.get("SSEType", "KMS"),
                }
            if "StreamViewType" in props.get("StreamSpecification", {}):
                params["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
            description = dynamodb.create_table(**params)["TableDescription"]
            ttl = props.get("TimeToLiveSpecification")
            if ttl and ttl.get("Enabled"):
                dynamodb.update_time_to_live(
                    TableName=name,
                    TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
                )
            resolver.physical[logical_id] = name
            resolver.attributes[(logical_id, "Arn")] = description["TableArn"]
            if "LatestStreamArn" in description:
                resolver.attributes[(logical_id, "StreamArn")] = description["LatestStreamArn"]
            log.info("table %s created (%s)", name, logical_id)


def create_user_pools(assembly: Assembly, resolver: Resolver, endpoint: str, region: str) -> None:
    cognito = client("cognito-idp", endpoint, region)
    for logical_id, resource in assembly.of_type("AWS::Cognito::UserPool").items():
        props = resolver.resolve(resource["Properties"])
        props["PoolName"] = props.pop("UserPoolName", None) or resolver.default_name(logical_id)
        pool = cognito.create_user_pool(**api_parameters(cognito, "CreateUserPool", props))["UserPool"]
        provider = f"cognito-idp.{region}.amazonaws.com/{pool['Id']}"
        resolver.physical[logical_id] = pool["Id"]
        resolver.attributes[(logical_id, "Arn")] = pool["Arn"]
        resolver.attributes[(logical_id, "ProviderName")] = provider
        resolver.attributes[(logical_id, "ProviderURL")] = f"https://{provider}"
        resolver.attributes[(logical_id, "UserPoolId")] = pool["Id"]
        log.info("user pool %s created (%s)", pool["Id"], logical_id)
    for logical_id, resource in assembly.of_type("AWS::Cognito::UserPoolClient").items():
        props = resolver.resolve(resource["Properties"])
        props.setdefault("ClientName", logical_id)
        created = cognito.create_user_pool_client(**api_parameters(cognito, "CreateUserPoolClient", props))
        client_id = created["UserPoolClient"]["ClientId"]
        resolver.physical[logical_id] = client_id
        resolver.attributes[(logical_id, "ClientId")] = client_id
        log.info("user pool client %s created (%s)", client_id, logical_id)


def register_named(assembly: Assembly, resolver: Resolver) -> None:
    """Resources whose template gives them a name keep it (functions, roles, log groups, ...)."""
    for logical_id, resource in assembly.resources.items():
        service = resource["Type"].split("::")[-1]
        name = resource.get("Properties", {}).get(f"{service}Name")
        if isinstance(name, str) and logical_id not in resolver.physical:
            resolver.physical[logical_id] = name
