"""The training consumer: new interactions from the interactions table's stream become training examples
(repetition detection), and examples from the training queue are written once each to the S3 dataset."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from gateway.observability import logger, metrics


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    records = event.get("Records") or [{}]
    if records[0].get("eventSource") == "aws:dynamodb":  # one event source per batch
        from gateway.repetition import handle_interactions_batch

        return handle_interactions_batch(event, context)
    from gateway.training import handle_training_batch

    return handle_training_batch(event, context)
