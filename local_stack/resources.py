"""Create the template's tables, user pools and clients, and queues in moto, from their own definitions.

CloudFormation properties are mapped onto the matching API call through botocore's own service model
(names and types), so every property the API accepts is carried over and nothing is listed twice;
a queue's attributes (a string map in the API) are the exception, listed below.
"""

from __future__ import annotations

import json
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


# CloudFormation properties of AWS::SQS::Queue that are queue attributes of CreateQueue, by the
# same name; the redrive policies name other queues, so they are set once every queue exists.
_QUEUE_ATTRIBUTES = (
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "DelaySeconds",
    "FifoQueue",
    "FifoThroughputLimit",
    "KmsDataKeyReusePeriodSeconds",
    "KmsMasterKeyId",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "SqsManagedSseEnabled",
    "VisibilityTimeout",
)
_QUEUE_POLICIES = ("RedrivePolicy", "RedriveAllowPolicy")


def create_queues(assembly: Assembly, resolver: Resolver, endpoint: str, region: str) -> None:
    """Create the template's SQS queues; ``Ref`` is the queue URL, ``Fn::GetAtt`` Arn and QueueName."""
    sqs = client("sqs", endpoint, region)
    queues = assembly.of_type("AWS::SQS::Queue")
    for logical_id, resource in queues.items():
        props = resolver.resolve(resource.get("Properties", {}))
        name = props.get("QueueName") or resolver.default_name(logical_id)
        if _is_true(props.get("FifoQueue")) and not name.endswith(".fifo"):
            name = name[:75] + ".fifo"  # what CloudFormation does for a FIFO queue it names
        attributes = {key: _attribute(props[key]) for key in _QUEUE_ATTRIBUTES if key in props}
        tags = {tag["Key"]: tag["Value"] for tag in props.get("Tags", [])}
        url = sqs.create_queue(QueueName=name, Attributes=attributes, tags=tags)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        resolver.physical[logical_id] = url
        resolver.attributes[(logical_id, "Arn")] = arn
        resolver.attributes[(logical_id, "QueueName")] = name
        resolver.attributes[(logical_id, "QueueUrl")] = url
        log.info("queue %s created (%s)", name, logical_id)
    for logical_id, resource in queues.items():
        props = resolver.resolve(resource.get("Properties", {}))
        policies = {key: _attribute(props[key]) for key in _QUEUE_POLICIES if key in props}
        if policies:
            sqs.set_queue_attributes(QueueUrl=resolver.ref(logical_id), Attributes=policies)


def queue_urls(assembly: Assembly, resolver: Resolver) -> dict[str, str]:
    """The created queues' URLs by ARN (how destinations name them)."""
    return {
        resolver.get_att(logical_id, "Arn"): resolver.ref(logical_id)
        for logical_id in assembly.of_type("AWS::SQS::Queue")
    }


def _attribute(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value) if isinstance(value, dict | list) else str(value)


def _is_true(value: Any) -> bool:
    return value is True or str(value).lower() == "true"
