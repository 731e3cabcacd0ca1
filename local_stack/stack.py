"""Bring the whole local stack up from a cloud assembly, and down again."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local_stack import event_sources, model, resources
from local_stack.assembly import Assembly
from local_stack.async_invoke import AsyncInvoker, AsyncTiming
from local_stack.event_sources import QueuePollers
from local_stack.events import ApiContext
from local_stack.gateway import Gateway, Limits
from local_stack.http_server import HttpServer
from local_stack.intrinsics import Resolver, UnsupportedIntrinsic
from local_stack.lambda_api import LambdaApi
from local_stack.management import ManagementApi
from local_stack.moto_service import LOOPBACK, MotoServer
from local_stack.webapp import WebAppServer
from local_stack.workers import FunctionPool
from stacks import constants

DEFAULT_REGION = "ap-northeast-1"
DEFAULT_ACCOUNT = "123456789012"

log = logging.getLogger("local_stack")


@dataclass(frozen=True)
class Ports:
    websocket: int
    connections: int
    moto: int
    lambda_api: int
    web: int


@dataclass(frozen=True)
class LocalStackSettings:
    ports: Ports
    runtime_dir: Path
    outputs_file: Path
    workers_per_function: int = 8
    limits: Limits = field(default_factory=Limits)
    async_timing: AsyncTiming = field(default_factory=AsyncTiming)
    region: str | None = None


class LocalStack:
    """moto + resources from the template + the WebSocket emulator + @connections + Lambda's Invoke."""

    def __init__(self, assembly: Assembly, settings: LocalStackSettings) -> None:
        self.assembly = assembly
        self.settings = settings
        self.region = settings.region or assembly.region or DEFAULT_REGION
        self.moto = MotoServer(settings.ports.moto)
        self.resolver = Resolver(
            assembly.resources,
            region=self.region,
            account=assembly.account or DEFAULT_ACCOUNT,
            stack_name=assembly.stack_name,
        )
        self._pools: dict[str, FunctionPool] = {}
        self._servers: list[asyncio.AbstractServer | Any] = []
        self._lambda_server: HttpServer | None = None
        self.gateway: Gateway | None = None
        self.invoker: AsyncInvoker | None = None
        self._sqs: Any = None
        self.pollers: QueuePollers | None = None
        self.webapp: WebAppServer | None = None

    @property
    def websocket_url(self) -> str:
        assert self.gateway is not None
        return f"ws://{LOOPBACK}:{self.settings.ports.websocket}/{self.gateway.api.stage}"

    @property
    def connections_endpoint(self) -> str:
        assert self.gateway is not None
        return f"http://{LOOPBACK}:{self.settings.ports.connections}/{self.gateway.api.stage}"

    @property
    def lambda_endpoint(self) -> str:
        return f"http://{LOOPBACK}:{self.settings.ports.lambda_api}"

    async def start(self) -> dict[str, str]:
        """Start everything; return the outputs (also written to the outputs file)."""
        await asyncio.to_thread(self.moto.start)
        await asyncio.to_thread(self._create_resources)
        model.register_api_names(self.assembly, self.resolver)
        api = model.build_api(self.assembly, self.resolver, self._local_environment())
        ports = self.settings.ports
        context = ApiContext(
            api.api_id, api.stage, f"{LOOPBACK}:{ports.websocket}", self.region, self.resolver.account
        )
        self._pools = {
            key: FunctionPool(
                spec, self.settings.runtime_dir, self.region, self.settings.workers_per_function
            )
            for key, spec in api.functions.items()
        }
        self.invoker = AsyncInvoker(
            self._pools,
            model.build_async_invoke(self.assembly, self.resolver, api.functions),
            resources.queue_urls(self.assembly, self.resolver),
            self._send_to_queue,
            self.settings.async_timing,
        )
        self.pollers = QueuePollers(
            event_sources.build(
                self.assembly,
                self.resolver,
                model.function_names(api.functions),
                resources.queue_urls(self.assembly, self.resolver),
            ),
            self._pools,
            self._sqs,
        )
        lambda_api = LambdaApi(self._pools, self.invoker, self.region, self.resolver.account)
        self._lambda_server = await lambda_api.serve(LOOPBACK, ports.lambda_api)
        self.gateway = Gateway(api, self._pools, context, self.settings.limits)
        self._servers.append(await self.gateway.serve(LOOPBACK, ports.websocket))
        self._servers.append(await ManagementApi(self.gateway).serve(LOOPBACK, ports.connections))
        self.webapp = WebAppServer(ports.web, self.settings.outputs_file).start()
        outputs = self._outputs()
        _write_json(self.settings.outputs_file, outputs)
        log.info("routes: %s", ", ".join(sorted(api.routes)))
        return outputs

    async def stop(self) -> None:
        """Stop in order: clients, in-flight integrations, the queues' pollers (a batch being run
        finishes), the Invoke API (which they may still call), the asynchronous events (queued ones
        dropped, running ones finish), the workers, moto."""
        for server in self._servers:
            server.close()
        for server in self._servers:
            await server.wait_closed()
        self._servers.clear()
        if self.webapp is not None:
            await asyncio.to_thread(self.webapp.stop)
        if self.gateway is not None:
            await self.gateway.drain()
        if self.pollers is not None:
            await self.pollers.stop()
        if self._lambda_server is not None:
            self._lambda_server.close()
            await self._lambda_server.wait_closed()
            self._lambda_server = None
        if self.invoker is not None:
            await self.invoker.stop()
        await asyncio.gather(*(pool.close() for pool in self._pools.values()))
        await asyncio.to_thread(self.moto.stop)

    def _create_resources(self) -> None:
        resources.create_tables(self.assembly, self.resolver, self.moto.endpoint, self.region)
        resources.create_user_pools(self.assembly, self.resolver, self.moto.endpoint, self.region)
        resources.create_queues(self.assembly, self.resolver, self.moto.endpoint, self.region)
        resources.register_named(self.assembly, self.resolver)
        self._sqs = resources.client("sqs", self.moto.endpoint, self.region)

    async def _send_to_queue(self, queue_url: str, body: str, attributes: dict[str, Any]) -> None:
        """Send a record or a dead letter to a queue (a boto3 client is safe to share by threads)."""
        await asyncio.to_thread(
            self._sqs.send_message, QueueUrl=queue_url, MessageBody=body, MessageAttributes=attributes
        )

    def _local_environment(self) -> dict[str, str]:
        """What the local stack substitutes for AWS endpoints in every function's environment."""
        environment = {
            "AWS_ENDPOINT_URL_DYNAMODB": self.moto.endpoint,
            "AWS_ENDPOINT_URL_SQS": self.moto.endpoint,
            "AWS_ENDPOINT_URL_LAMBDA": self.lambda_endpoint,
            "CONNECTIONS_ENDPOINT": f"http://{LOOPBACK}:{self.settings.ports.connections}/"
            + self._stage_name(),
        }
        pools = self.assembly.of_type("AWS::Cognito::UserPool")
        if len(pools) == 1:
            pool_id = self.resolver.ref(next(iter(pools)))
            environment["JWKS_URL"] = f"{self.moto.endpoint}/{pool_id}/.well-known/jwks.json"
        return environment

    def _stage_name(self) -> str:
        stages = self.assembly.of_type("AWS::ApiGatewayV2::Stage")
        return next(iter(stages.values()))["Properties"]["StageName"]

    def _outputs(self) -> dict[str, str]:
        outputs: dict[str, str] = {}
        for key, output in self.assembly.template.get("Outputs", {}).items():
            try:
                outputs[key] = str(self.resolver.resolve(output["Value"]))
            except UnsupportedIntrinsic as error:
                log.warning("output %s not resolvable locally: %s", key, error)
        pools = list(self.assembly.of_type("AWS::Cognito::UserPool"))
        clients = list(self.assembly.of_type("AWS::Cognito::UserPoolClient"))
        outputs[constants.OUTPUT_REGION] = self.region
        if len(pools) == 1:
            outputs[constants.OUTPUT_USER_POOL_ID] = self.resolver.ref(pools[0])
        if len(clients) == 1:
            outputs[constants.OUTPUT_USER_POOL_CLIENT_ID] = self.resolver.ref(clients[0])
        tables = [key for kind in resources.TABLE_TYPES for key in self.assembly.of_type(kind)]
        if len(tables) == 1:
            outputs.setdefault("TableName", self.resolver.ref(tables[0]))
        outputs[constants.OUTPUT_WEBSOCKET_URL] = self.websocket_url
        outputs["CognitoEndpoint"] = self.moto.endpoint
        outputs["DynamoDBEndpoint"] = self.moto.endpoint
        outputs["ConnectionsEndpoint"] = self.connections_endpoint
        outputs["LambdaEndpoint"] = self.lambda_endpoint
        outputs["SQSEndpoint"] = self.moto.endpoint
        if self.webapp is not None:
            outputs["WebAppUrl"] = self.webapp.url
        return outputs


def _write_json(path: Path, value: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(value, indent=2) + "\n")
    os.replace(temporary, path)
