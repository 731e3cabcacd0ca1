"""Approve or revoke a user's sender profile (the gate that REQUIRE_VERIFIED_SENDER turns on).

    python -m admin approve <userId> --table <TableName>
    python -m admin revoke  <userId> --table <TableName>
    python -m admin show    <userId> --table <TableName>
    python -m admin approve <userId> --local     # the running local stack (make local)

The table defaults to $TABLE_NAME; the AWS profile and region come from the environment, as for any
boto3 tool. `--local` takes the table, region and DynamoDB endpoint from .local/outputs.json.
The user id is the user's Cognito `sub` (what `whoami` returns). A change applies to the user's
next message.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from pathlib import Path

# The route functions' code root: the same data-access code writes the profile that sendMessage reads.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lambdas"))

from chat.dal import client, profiles
from chat.timeutil import iso, now

LOCAL_OUTPUTS = Path(".local/outputs.json")
STATUS_OF = {"approve": profiles.APPROVED, "revoke": profiles.REVOKED}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m admin", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=[*STATUS_OF, "show"])
    parser.add_argument("user_id", help="the user's Cognito sub")
    add_table_arguments(parser)
    args = parser.parse_args(argv)
    use_table(parser, args)
    if args.command != "show":
        profiles.set_status(
            args.user_id, STATUS_OF[args.command], updated_at=iso(now()), updated_by=getpass.getuser()
        )
    profile = profiles.get(args.user_id)
    print(
        json.dumps(profile or {"userId": args.user_id, "verificationStatus": "none"}, default=str, indent=2)
    )
    return 0


def add_table_arguments(parser: argparse.ArgumentParser) -> None:
    """`--table` (default $TABLE_NAME) or `--local`: which table an operator command works on."""
    parser.add_argument(
        "--table", default=os.environ.get("TABLE_NAME"), help="table name (default: $TABLE_NAME)"
    )
    parser.add_argument("--local", action="store_true", help=f"use the local stack ({LOCAL_OUTPUTS})")


def use_table(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Point the data-access code at the table the arguments name (exits with usage if none)."""
    if args.local:
        args.table = use_local_stack()
    if not args.table:
        parser.error("--table is required (or set TABLE_NAME, or use --local)")
    client.use_table(args.table)


def use_local_stack() -> str:
    """Point boto3 at the local stack's DynamoDB (moto takes any credentials); returns the table name."""
    if not LOCAL_OUTPUTS.exists():
        raise SystemExit(f"{LOCAL_OUTPUTS} not found: start the local stack with `make local` first")
    outputs = json.loads(LOCAL_OUTPUTS.read_text())
    os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = outputs["DynamoDBEndpoint"]
    os.environ["AWS_DEFAULT_REGION"] = outputs["Region"]
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    return str(outputs["TableName"])


if __name__ == "__main__":
    sys.exit(main())
