"""The authorizer's log lines, each also a CloudWatch metric in Embedded Metric Format (EMF).

One JSON line per decision is both the structured log and the metric, so the authorizer needs no
Powertools import on its cold path (measured in benchmarks/bench_verifier.py). Only the decision,
the reason and the user id are written: never the token, never the query string.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

from cognito_verifier import Reason

import metric_names
from metric_names import Metric


def _namespace() -> str:
    return os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "ServerlessChat"


def _service() -> str:
    return os.environ.get("POWERTOOLS_SERVICE_NAME") or "authorizer"


def _emit(level: str, message: str, metric: Metric, label: str | None, fields: dict[str, Any]) -> None:
    dimensions = {metric.dimension: label} if metric.dimension and label else {}
    record = {
        "level": level,
        "message": message,
        "service": _service(),
        **dimensions,
        **fields,
        metric.name: 1,
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": _namespace(),
                    "Dimensions": [["service", *dimensions]],
                    "Metrics": [{"Name": metric.name, "Unit": metric.unit}],
                }
            ],
        },
    }
    sys.stdout.write(json.dumps(record, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def token_rejected(reason: Reason, *, request_id: str | None) -> None:
    _emit("WARNING", "token rejected", metric_names.TOKEN_REJECTED, reason.value, {"requestId": request_id})


def token_accepted(user_id: str, *, request_id: str | None) -> None:
    _emit(
        "INFO",
        "token accepted",
        metric_names.TOKEN_ACCEPTED,
        None,
        {"userId": user_id, "requestId": request_id},
    )


def authorizer_error(error: BaseException, *, request_id: str | None) -> None:
    """An unexpected failure: the exception's type only (its message could quote the input)."""
    _emit(
        "ERROR",
        "authorizer failed",
        metric_names.TOKEN_REJECTED,
        metric_names.AUTHORIZER_FAILED_REASON,
        {"requestId": request_id, "errorType": type(error).__name__},
    )
