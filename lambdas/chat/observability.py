"""Powertools logger and metrics shared by every module of a function (one of each per container)."""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "ServerlessChat")

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "chat"))
metrics = Metrics(namespace=NAMESPACE)


def count(name: str, value: int = 1) -> None:
    """Add to a metric flushed with the invocation's other metrics."""
    if value:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def count_by(name: str, dimension: str, label: str, value: int = 1) -> None:
    """A metric split by one dimension (error code, failure kind), emitted at once."""
    with single_metric(name=name, unit=MetricUnit.Count, value=value, namespace=NAMESPACE) as metric:
        metric.add_dimension(name=dimension, value=label)
