"""The Lambda runtime of one warm worker process, run as a script under ``python -I -S``.

    python -I -S worker_main.py ASSET_DIR RUNTIME_DIR

``-I -S`` keep the interpreter's own site-packages (the dev venv) off ``sys.path``: the function sees
its bundled asset and the runtime directory (what Lambda's runtime provides: boto3 and its
dependencies), nothing else, so a dependency missing from a bundle fails here as it would on AWS.
This file imports only the standard library and is not part of the ``local_stack`` package's API.

Protocol: one JSON line per request on stdin (``{"requestId", "event", "deadline"}``), one JSON line
per reply on the original stdout (``{"result": ...}`` or ``{"error": {...}}``); the function's own
stdout is redirected to stderr, which the parent forwards to its log, as Lambda sends it to CloudWatch.
The first line written is ``{"ready": true}`` or ``{"error": ...}`` for a failed init.
"""

import importlib
import json
import os
import signal
import sys
import time
import traceback


class LambdaContext:
    """The attributes and method of the Python runtime's context object."""

    def __init__(self, request_id, deadline):
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn = os.environ.get("LOCAL_FUNCTION_ARN", "")
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self._deadline = deadline

    def get_remaining_time_in_millis(self):
        return max(0, int((self._deadline - time.time()) * 1000))


def error_reply(exc, error_type=None):
    return {
        "error": {
            "errorMessage": str(exc),
            "errorType": error_type or type(exc).__name__,
            "stackTrace": traceback.format_exception(exc)[1:],
        }
    }


def load_handler(handler):
    module_name, _, function_name = handler.rpartition(".")
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except Exception as exc:  # what Lambda reports as Runtime.ImportModuleError
        return None, error_reply(exc, "Runtime.ImportModuleError")
    function = getattr(module, function_name, None)
    if function is None:
        return None, error_reply(
            AttributeError(f"module has no {function_name!r}"), "Runtime.HandlerNotFound"
        )
    return function, {"ready": True}


def main():
    # Ctrl-C in a terminal reaches the whole process group; the local stack stops its workers itself,
    # so a worker must not die first with a KeyboardInterrupt trace in the middle of the shutdown log.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    asset_dir, runtime_dir = sys.argv[1], sys.argv[2]
    replies = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.path[:0] = [asset_dir, runtime_dir]
    os.chdir(asset_dir)
    function, status = load_handler(os.environ["_HANDLER"])
    replies.write(json.dumps(status) + "\n")
    if function is None:
        return
    for line in sys.stdin:
        request = json.loads(line)
        context = LambdaContext(request["requestId"], request["deadline"])
        try:
            reply = {"result": function(request["event"], context)}
            encoded = json.dumps(reply)
        except Exception as exc:
            reply = error_reply(exc)
            encoded = json.dumps(reply)
            error = reply["error"]
            # Lambda's runtime logs an unhandled error with its trace, as here.
            print(
                f"[ERROR] {error['errorType']}: {error['errorMessage']}",
                *error["stackTrace"],
                file=sys.stderr,
            )
        sys.stdout.flush()
        sys.stderr.flush()
        replies.write(encoded + "\n")


if __name__ == "__main__":
    main()
