"""Imports a package the dev venv has but this bundle does not: init must fail as on Lambda."""

import jwt  # noqa: F401


def handler(event, context):
    return {"statusCode": 200, "body": "unreachable"}
