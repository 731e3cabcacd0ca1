"""Two demo users in the local user pool, and the banner that tells a person how to use them."""

from __future__ import annotations

from pathlib import Path

from local_stack.assembly import Assembly
from local_stack.resources import client

DEMO_PASSWORD = "Chat-Demo-Passw0rd!"
DEMO_NAMES = ("alice", "bob")


def usernames(assembly: Assembly) -> list[str]:
    """E-mail addresses when the pool signs users in by e-mail, plain names otherwise."""
    pools = assembly.of_type("AWS::Cognito::UserPool").values()
    by_email = any("email" in pool["Properties"].get("UsernameAttributes", []) for pool in pools)
    return [f"{name}@example.com" if by_email else name for name in DEMO_NAMES]


def create_users(outputs: dict[str, str], assembly: Assembly) -> list[str]:
    cognito = client("cognito-idp", outputs["CognitoEndpoint"], outputs["Region"])
    created = []
    for name, username in zip(DEMO_NAMES, usernames(assembly), strict=True):
        cognito.admin_create_user(
            UserPoolId=outputs["UserPoolId"],
            Username=username,
            UserAttributes=[
                {"Name": "email", "Value": f"{name}@example.com"},
                {"Name": "email_verified", "Value": "true"},
            ],
            TemporaryPassword=DEMO_PASSWORD,
            MessageAction="SUPPRESS",
        )
        cognito.admin_set_user_password(
            UserPoolId=outputs["UserPoolId"], Username=username, Password=DEMO_PASSWORD, Permanent=True
        )
        created.append(username)
    return created


def banner(outputs: dict[str, str], users: list[str], outputs_file: Path) -> str:
    lines = [
        "",
        "Local chat backend is running on 127.0.0.1 (Ctrl-C stops everything).",
        f"  web chat page   {outputs['WebAppUrl']}",
        f"  WebSocket API   {outputs['WebSocketUrl']}?idToken=<Cognito ID token>",
        f"  @connections    {outputs['ConnectionsEndpoint']}",
        f"  Lambda Invoke   {outputs['LambdaEndpoint']}",
        f"  Cognito, DynamoDB, SQS (moto)  {outputs['CognitoEndpoint']}",
        f"  user pool {outputs.get('UserPoolId')}, client {outputs.get('UserPoolClientId')}",
        f"  outputs         {outputs_file}",
    ]
    if users:
        lines += [
            "",
            f"Demo users: {', '.join(users)} (password {DEMO_PASSWORD})",
            f"Open {outputs['WebAppUrl']} in two browser windows and sign in as each,",
            "or chat as one of them in another terminal:",
            f"  .venv/bin/python -m chat_cli --outputs {outputs_file} --username {users[0]}",
            f"  .venv/bin/python -m chat_cli --outputs {outputs_file} --username {users[1]}",
            "Or get an ID token for your own client:",
            f"  .venv/bin/python -m chat_cli --outputs {outputs_file} --username {users[0]} --print-token",
        ]
    return "\n".join(lines) + "\n"
