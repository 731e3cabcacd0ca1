"""Lambda's ``Invoke`` API over HTTP, at the path boto3's ``lambda`` client uses.

    POST /2015-03-31/functions/<FunctionName>/invocations[?Qualifier=$LATEST]

``FunctionName`` is the name, the ARN or a partial ARN (``<account>:function:<name>``), optionally
with the ``$LATEST`` qualifier. ``X-Amz-Invocation-Type``: ``RequestResponse`` (the default) runs the
function and answers 200 with its result, or with the error object and ``X-Amz-Function-Error:
Unhandled``; ``Event`` queues the event (``async_invoke``) and answers 202 at once; ``DryRun``
answers 204. Errors have Lambda's shape: ``x-amzn-ErrorType`` and ``{"Type", "message"}``.
Requests are not authenticated (any SigV4 signature is accepted).
"""

from __future__ import annotations

import json
import re
import uuid
from urllib.parse import parse_qs, unquote

from local_stack import http_server
from local_stack.async_invoke import AsyncInvoker
from local_stack.http_server import Reply
from local_stack.workers import FunctionPool, InvocationError

# Payload quotas of Invoke, from https://docs.aws.amazon.com/lambda/latest/dg/API_Invoke.html:
# "For synchronous invocations, the maximum payload size is 6 MB. For asynchronous invocations, the
# maximum payload size is 1 MB." (MB meaning 1,024 KB, as .../gettingstarted-limits.html says; the
# asynchronous quota was 256 KB before 2025.)
SYNC_PAYLOAD_LIMIT = 6 * 1024 * 1024
ASYNC_PAYLOAD_LIMIT = 1024 * 1024

# FunctionName as the Invoke API's model constrains it (botocore's lambda service model).
_FUNCTION_NAME = re.compile(
    r"(arn:(aws[a-zA-Z-]*)?:lambda:)?(?P<region>[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?"
    r"(?P<account>\d{12}:)?(function:)?(?P<name>[a-zA-Z0-9-_\.]+)(:(?P<qualifier>\$LATEST|[a-zA-Z0-9-_]+))?"
)
_INVOCATION_TYPES = ("RequestResponse", "Event", "DryRun")
_INVOKE_PATH = ("2015-03-31", "functions", "invocations")


def _error(status: int, error_type: str, message: str) -> Reply:
    return http_server.json_reply(
        status, {"Type": "User", "message": message}, {"x-amzn-ErrorType": error_type}
    )


class _Refused(Exception):
    """The request cannot be served; ``reply`` is Lambda's error answer."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply[2].decode())
        self.reply = reply


class LambdaApi:
    def __init__(
        self, pools: dict[str, FunctionPool], invoker: AsyncInvoker, region: str, account: str
    ) -> None:
        self._pools = pools
        self._invoker = invoker
        self._region = region
        self._account = account
        self._by_name = {pool.spec.name: key for key, pool in pools.items()}

    async def serve(self, host: str, port: int) -> http_server.HttpServer:
        return await http_server.serve(self.handle, host, port, limit=64 * 1024)

    async def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Reply:
        path, _, query = target.partition("?")
        parts = [unquote(part) for part in path.strip("/").split("/")]
        if method != "POST" or len(parts) != 4 or (parts[0], parts[1], parts[3]) != _INVOKE_PATH:
            return _error(404, "UnknownOperationException", f"Unknown operation: {method} {path}")
        qualifier = parse_qs(query).get("Qualifier", [None])[0]
        try:
            function = self._function(parts[2], qualifier)
        except _Refused as refused:
            return refused.reply
        invocation_type = headers.get("x-amz-invocation-type", "RequestResponse")
        if invocation_type not in _INVOCATION_TYPES:
            return _error(
                400,
                "ValidationException",
                f"1 validation error detected: Value '{invocation_type}' at 'invocationType' failed to "
                f"satisfy constraint: Member must satisfy enum value set: [{', '.join(_INVOCATION_TYPES)}]",
            )
        limit = ASYNC_PAYLOAD_LIMIT if invocation_type == "Event" else SYNC_PAYLOAD_LIMIT
        if len(body) > limit:
            # Invoke's documented error for a payload over the quota: RequestTooLargeException, 413
            # (botocore's model; Lambda has also been seen to answer RequestEntityTooLargeException).
            # The messages are the ones Lambda gives.
            message = (
                f"{len(body)} byte payload is too large for the Event invocation type (limit {limit} bytes)"
                if invocation_type == "Event"
                else f"Request must be smaller than {limit} bytes for the InvokeFunction operation"
            )
            return _error(413, "RequestTooLargeException", message)
        try:
            payload = json.loads(body) if body.strip() else {}
        except ValueError as error:
            return _error(
                400, "InvalidRequestContentException", f"Could not parse request body into json: {error}"
            )
        if invocation_type == "DryRun":
            return 204, {"x-amzn-RequestId": str(uuid.uuid4())}, b""
        if invocation_type == "Event":
            request_id = self._invoker.submit(function, payload)
            return 202, {"x-amzn-RequestId": request_id}, b""
        return await self._run(function, payload)

    def _function(self, identifier: str, qualifier: str | None) -> str:
        """The logical id of the function ``FunctionName`` names; _Refused as Lambda refuses it."""
        match = _FUNCTION_NAME.fullmatch(identifier)
        if match is None or len(identifier) > 170:
            raise _Refused(
                _error(
                    400,
                    "ValidationException",
                    f"1 validation error detected: Value '{identifier}' at 'functionName' failed to satisfy "
                    f"constraint: Member must satisfy regular expression pattern: {_FUNCTION_NAME.pattern}",
                )
            )
        name = match.group("name")
        region = (match.group("region") or f"{self._region}:").rstrip(":")
        account = (match.group("account") or f"{self._account}:").rstrip(":")
        qualifiers = {q for q in (match.group("qualifier"), qualifier) if q is not None}
        arn = f"arn:aws:lambda:{region}:{account}:function:{name}"
        key = self._by_name.get(name)
        if key is None or region != self._region or account != self._account or qualifiers - {"$LATEST"}:
            shown = arn + "".join(f":{q}" for q in sorted(qualifiers))
            raise _Refused(_error(404, "ResourceNotFoundException", f"Function not found: {shown}"))
        return key

    async def _run(self, function: str, payload: object) -> Reply:
        request_id = str(uuid.uuid4())
        headers = {"x-amzn-RequestId": request_id, "X-Amz-Executed-Version": "$LATEST"}
        try:
            result = await self._pools[function].invoke(payload, request_id)
        except InvocationError as error:
            return http_server.json_reply(
                200, error.payload(), {**headers, "X-Amz-Function-Error": "Unhandled"}
            )
        encoded = json.dumps(result).encode()
        if len(encoded) > SYNC_PAYLOAD_LIMIT:
            too_large = {
                "errorMessage": f"Response payload size ({len(encoded)} bytes) exceeded maximum allowed "
                f"payload size ({SYNC_PAYLOAD_LIMIT} bytes).",
                "errorType": "Function.ResponseSizeTooLarge",
            }
            return http_server.json_reply(200, too_large, {**headers, "X-Amz-Function-Error": "Unhandled"})
        return 200, {"Content-Type": "application/json", **headers}, encoded
