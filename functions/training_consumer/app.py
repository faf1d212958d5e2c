"""The training consumer: examples from the training queue, written once each to the S3 dataset."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from gateway.observability import logger, metrics
from gateway.training import handle_training_batch


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle_training_batch(event, context)
