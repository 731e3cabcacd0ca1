"""Names the infrastructure uses more than once: the app, its environments and its CDK context keys."""

from __future__ import annotations

APP_NAME = "Chat"
SERVICE_NAME = "chat"

ENV_NAMES: tuple[str, ...] = ("dev", "staging", "prod")
DEFAULT_ENV = "dev"

# CDK context keys read by build_app (`cdk synth -c env=prod -c bundling=host`).
CONTEXT_ENV = "env"
CONTEXT_BUNDLING = "bundling"
CONTEXT_ENVIRONMENTS = "environments"
# The optional deploy-access stack (stacks/deploy_access.py): `-c deploy_access=<owner>/<repo>`.
CONTEXT_DEPLOY_ACCESS = "deploy_access"
CONTEXT_DEPLOY_ACCESS_ENVIRONMENTS = "deploy_access_environments"
CONTEXT_DEPLOY_ACCESS_OIDC_PROVIDER = "deploy_access_oidc_provider"
DEPLOY_ACCESS_STACK_NAME = f"{APP_NAME}-DeployAccess"
# Set only for a custom `cdk bootstrap --qualifier`; the bootstrap roles' names contain it.
CONTEXT_BOOTSTRAP_QUALIFIER = "@aws-cdk/core:bootstrapQualifier"

# Values of the `bundling` context: pip-install dependencies for Lambda or for this machine.
BUNDLING_LAMBDA = "lambda"
BUNDLING_HOST = "host"
BUNDLING_MODES: tuple[str, ...] = (BUNDLING_LAMBDA, BUNDLING_HOST)

# The stack outputs: frontend teams read exactly these keys (PROTOCOL.md "Outputs").
OUTPUT_REGION = "Region"
OUTPUT_USER_POOL_ID = "UserPoolId"
OUTPUT_USER_POOL_CLIENT_ID = "UserPoolClientId"
OUTPUT_WEBSOCKET_URL = "WebSocketUrl"
OUTPUT_KEYS: tuple[str, ...] = (
    OUTPUT_REGION,
    OUTPUT_USER_POOL_ID,
    OUTPUT_USER_POOL_CLIENT_ID,
    OUTPUT_WEBSOCKET_URL,
)
# Only where the environment configures managed login (a Cognito domain).
OUTPUT_MANAGED_LOGIN_URL = "ManagedLoginUrl"
OPTIONAL_OUTPUT_KEYS: tuple[str, ...] = (OUTPUT_MANAGED_LOGIN_URL,)


def metrics_namespace(env_name: str) -> str:
    """The CloudWatch namespace of the functions' own metrics (POWERTOOLS_METRICS_NAMESPACE)."""
    return f"{APP_NAME}/{env_name}"


def stack_name(env_name: str) -> str:
    """The CloudFormation stack name of one environment, e.g. `Chat-dev`."""
    return f"{APP_NAME}-{env_name}"
