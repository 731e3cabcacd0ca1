"""Powertools logger and metrics shared by every module of a function (one of each per container).

Metrics are named in `metric_names` only: the dashboard and the alarms read the same definitions.
"""

from __future__ import annotations

import logging
import warnings

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from chat.config import ObservabilitySettings
from metric_names import Metric

# Read once, at import: every module logs and counts through these two objects.
SETTINGS = ObservabilitySettings.from_environ()
NAMESPACE = SETTINGS.metrics_namespace

logger = Logger(service=SETTINGS.service_name)
metrics = Metrics(namespace=NAMESPACE)
# The Lambda runtime sets the root logger to the function's application log level. At DEBUG, the AWS
# SDK and urllib3 would log every request body (message content, e-mail addresses): they log at INFO
# at most, whatever the environment's level (tests/chat/test_log_privacy.py).
SDK_LOGGERS = ("boto3", "botocore", "s3transfer", "urllib3")
for _name in SDK_LOGGERS:
    logging.getLogger(_name).setLevel(logging.INFO)
# An invocation whose metrics are all split by a dimension (emitted at once by `count_by`, e.g. a
# `ping`'s Requests{Route}) flushes none at its end; Powertools would warn about that every time.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)


def count(metric: Metric, value: int = 1) -> None:
    """Add to a metric flushed with the invocation's other metrics."""
    if value:
        metrics.add_metric(name=metric.name, unit=MetricUnit(metric.unit), value=value)


def count_by(metric: Metric, label: str, value: int = 1) -> None:
    """A metric split by its dimension (route, error code, failure kind), emitted at once."""
    if metric.dimension is None:
        raise ValueError(f"{metric.name} has no dimension to split by")
    with single_metric(
        name=metric.name, unit=MetricUnit(metric.unit), value=value, namespace=NAMESPACE
    ) as emitted:
        emitted.add_dimension(name=metric.dimension, value=label)


def milliseconds(metric: Metric, value: float) -> None:
    """One duration sample; CloudWatch keeps every sample, so the dashboard can draw p50 and p99."""
    metrics.add_metric(name=metric.name, unit=MetricUnit(metric.unit), value=round(value, 3))
