"""The `$connect` REQUEST authorizer event API Gateway sends, from the stored fixture file."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

_CONNECT_REQUEST = json.loads((Path(__file__).parent / "events" / "connect_request.json").read_text())
METHOD_ARN: str = _CONNECT_REQUEST["methodArn"]


class LambdaContext:
    """The one attribute of Lambda's context object the authorizer reads."""

    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"


def connect_event(token: object = None, *, with_query: bool = True) -> dict[str, Any]:
    """The stored event carrying `token` as `idToken` (no query string at all when `with_query` is false)."""
    event = copy.deepcopy(_CONNECT_REQUEST)
    if not with_query:
        event["queryStringParameters"] = None
        event["multiValueQueryStringParameters"] = None
    elif token is None:
        event["queryStringParameters"] = {"lang": "en"}
        event["multiValueQueryStringParameters"] = {"lang": ["en"]}
    else:
        event["queryStringParameters"] = {"idToken": token}
        event["multiValueQueryStringParameters"] = {"idToken": [token]}
    return event
