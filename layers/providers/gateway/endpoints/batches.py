"""A batch of queue or stream records through Powertools' partial batch processing, counted: what came in, and what
failed and is reported back for redelivery (ReportBatchItemFailures). The route jobs, the training examples and the
interactions stream share it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BasePartialBatchProcessor, process_partial_response
from aws_lambda_powertools.utilities.typing import LambdaContext

from gateway.observability import metrics


def process_counted(
    event: dict[str, Any],
    record_handler: Callable[[Any], Any],
    processor: BasePartialBatchProcessor,
    context: LambdaContext | None,
    *,
    received_name: str,
    failed_name: str,
) -> dict[str, Any]:
    """`process_partial_response`, with the batch's records counted as `received_name` and its failures (when there
    are any) as `failed_name`."""
    metrics.add_metric(name=received_name, unit=MetricUnit.Count, value=len(event.get("Records", [])))
    result = process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    failures = len(result.get("batchItemFailures", []))
    if failures:
        metrics.add_metric(name=failed_name, unit=MetricUnit.Count, value=failures)
    return dict(result)
