"""Each synthesized function's environment, fed to the parser its code runs at import.

A variable the stack forgets, misspells or sets to a value the code cannot use fails here, not at a
cold start in some environment. Values CloudFormation resolves at deploy time (a `Ref`, a `Join`)
are replaced by a placeholder string: the parser only needs them set.
"""

from __future__ import annotations

from typing import Any

import pytest
from chat import config
from chat.logic.ratelimit import RateLimit
from cognito_verifier import settings as verifier_settings
from cognito_verifier.settings import VerifierSettings

from tests.infrastructure.conftest import Synth

DEPLOY_TIME = "resolved-at-deploy-time"
POWERTOOLS = frozenset({config.POWERTOOLS_SERVICE_NAME, config.POWERTOOLS_METRICS_NAMESPACE})
# BroadcastFunction's limited actions and their cdk.json settings (`<setting>_rate_per_second`, `_burst`).
RATE_SETTINGS = {
    "sendMessage": "send",
    "createRoom": "create_room",
    "joinRoom": "join_room",
    "leaveRoom": "leave_room",
    "markRead": "mark_read",
}


def environments(synth: Synth) -> dict[str, tuple[str, dict[str, str]]]:
    """Construct id -> (handler, environment with deploy-time values as placeholders)."""
    found: dict[str, tuple[str, dict[str, str]]] = {}
    for function in synth.resources("AWS::Lambda::Function").values():
        path = function["Metadata"]["aws:cdk:path"]
        variables: dict[str, Any] = function["Properties"].get("Environment", {}).get("Variables", {})
        resolved = {
            name: value if isinstance(value, str) else DEPLOY_TIME for name, value in variables.items()
        }
        found[path.split("/")[-2]] = (function["Properties"]["Handler"], resolved)
    return found


def test_every_function_is_checked(each_env: Synth) -> None:
    handlers = {handler for handler, _ in environments(each_env).values()}
    assert handlers == {"handler.lambda_handler"} | {
        f"{module}.handler" for module in config.REQUIRED_BY_HANDLER
    }


@pytest.mark.parametrize("module", sorted(config.REQUIRED_BY_HANDLER))
def test_each_chat_function_environment_parses_with_every_variable_it_needs(
    each_env: Synth, module: str
) -> None:
    [variables] = [env for handler, env in environments(each_env).values() if handler == f"{module}.handler"]

    settings = config.ChatSettings.for_handler(module, variables)

    assert config.unknown_variables(variables) == set(), "the stack sets variables no chat code reads"
    assert settings.table_name == DEPLOY_TIME
    assert settings.observability.metrics_namespace == f"Chat/{each_env.env_name}"
    assert settings.max_room_members == each_env.settings.max_room_members
    assert settings.presence_max_members == each_env.settings.presence_max_members
    if module == "chat.handlers.fanout":
        assert settings.connections_endpoint == DEPLOY_TIME  # checked per job, so checked here
        assert settings.fanout_batch_size == each_env.settings.fanout_batch_size
        assert settings.session_grace_seconds == each_env.settings.session_grace_seconds
    if module == "chat.handlers.broadcast":
        env = each_env.settings
        for action, setting in RATE_SETTINGS.items():
            assert settings.rate_limits[action] == RateLimit(
                rate_per_second=getattr(env, f"{setting}_rate_per_second"),
                burst=getattr(env, f"{setting}_burst"),
            )
        assert settings.typing_interval_seconds == env.typing_interval_seconds
        assert settings.max_rooms_per_user == env.max_rooms_per_user
        assert settings.require_verified_sender is each_env.settings.require_verified_sender
    if module == "chat.handlers.direct":
        assert settings.verifier is not None
        assert settings.verifier.leeway == each_env.settings.token_leeway_seconds
        reauth = RateLimit(each_env.settings.reauth_rate_per_second, each_env.settings.reauth_burst)
        assert settings.rate_limits["reauth"] == reauth


def test_the_authorizer_environment_parses_with_nothing_unknown(each_env: Synth) -> None:
    [variables] = [
        env for handler, env in environments(each_env).values() if handler == "handler.lambda_handler"
    ]

    settings = VerifierSettings.from_environ(variables)

    assert set(variables) - verifier_settings.VARIABLES - POWERTOOLS == set()
    assert settings.user_pool_id == DEPLOY_TIME and settings.client_ids == (DEPLOY_TIME,)
    assert settings.region, "COGNITO_REGION (or Lambda's AWS_REGION) names the pool's region"
    assert settings.leeway == each_env.settings.token_leeway_seconds


def test_a_misspelled_or_forgotten_variable_fails_these_checks(dev: Synth) -> None:
    [variables] = [
        env for handler, env in environments(dev).values() if handler == "chat.handlers.broadcast.handler"
    ]
    misspelled = {**variables, "MAX_ROOM_MEMBER": variables["MAX_ROOM_MEMBERS"]}
    del misspelled["MAX_ROOM_MEMBERS"]
    forgotten = {name: value for name, value in variables.items() if name != config.FANOUT_FUNCTION_NAME}

    assert config.unknown_variables(misspelled) == {"MAX_ROOM_MEMBER"}
    with pytest.raises(config.ChatSettingsError, match="FANOUT_FUNCTION_NAME must be set"):
        config.ChatSettings.for_handler("chat.handlers.broadcast", forgotten)
