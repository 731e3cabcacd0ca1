"""The chat stack: composes the constructs, wires the grants between them, emits the outputs."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack, Tags
from constructs import Construct

from stacks import constants
from stacks.database import ChatTable
from stacks.functions import ChatFunctions
from stacks.identity import ChatIdentity
from stacks.monitoring import ChatMonitoring
from stacks.settings import StackSettings
from stacks.websocket_api import ChatWebSocketApi


class ChatStack(Stack):
    """Everything one environment needs; `Chat-<env>`."""

    def __init__(
        self, scope: Construct, id_: str, *, settings: StackSettings, bundling_mode: str, **kwargs: Any
    ) -> None:
        super().__init__(scope, id_, **kwargs)
        Tags.of(self).add("app", constants.SERVICE_NAME)
        Tags.of(self).add("environment", settings.env_name)

        self.identity = ChatIdentity(self, "Identity", settings=settings)
        self.database = ChatTable(self, "Database", settings=settings)
        self.functions = ChatFunctions(
            self,
            "Functions",
            settings=settings,
            bundling_mode=bundling_mode,
            table=self.database.table,
            user_pool=self.identity.user_pool,
            user_pool_client=self.identity.client,
        )
        self.websocket = ChatWebSocketApi(
            self,
            "WebSocket",
            settings=settings,
            authorizer_function=self.functions.authorizer,
            lifecycle_function=self.functions.lifecycle,
            direct_function=self.functions.direct,
            broadcast_function=self.functions.broadcast,
        )
        self.websocket.grant_manage_connections(self.functions.fanout)
        # The fan-out function has no request to read its API from: it posts to this stage.
        self.functions.fanout.add_environment("CONNECTIONS_ENDPOINT", self.websocket.stage.callback_url)
        self.monitoring = ChatMonitoring(
            self,
            "Monitoring",
            settings=settings,
            functions=self.functions.functions,
            authorizer=self.functions.authorizer,
            fanout_failures=self.functions.fanout_failures,
            fanout_jobs=self.functions.fanout_queue.queue,
            fanout_dead_letters=self.functions.fanout_queue.dead_letters,
            stage=self.websocket.stage,
            access_logs=self.websocket.access_logs,
            table=self.database.table,
        )

        CfnOutput(self, constants.OUTPUT_REGION, value=self.region, description="AWS region of the stack")
        CfnOutput(self, constants.OUTPUT_USER_POOL_ID, value=self.identity.user_pool.user_pool_id)
        CfnOutput(self, constants.OUTPUT_USER_POOL_CLIENT_ID, value=self.identity.client.user_pool_client_id)
        CfnOutput(
            self,
            constants.OUTPUT_WEBSOCKET_URL,
            value=self.websocket.stage.url,
            description="wss:// URL to connect to, with ?idToken=<Cognito ID token>",
        )
        if self.identity.managed_login_url is not None:
            CfnOutput(
                self,
                constants.OUTPUT_MANAGED_LOGIN_URL,
                value=self.identity.managed_login_url,
                description="Cognito domain for managed login (authorization code + PKCE)",
            )
