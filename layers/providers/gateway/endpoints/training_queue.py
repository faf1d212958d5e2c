"""Training examples from the training queue, written once each to the dataset (`gateway.learning.training`):
failures are reported per message (ReportBatchItemFailures), so SQS redelivers only those."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from gateway.core.errors import short
from gateway.endpoints.batches import process_counted
from gateway.learning.training import record_example
from gateway.observability import logger

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def handle_training_batch(event: dict[str, Any], context: LambdaContext | None) -> dict[str, Any]:
    """Write a batch of examples; failures are reported per message (ReportBatchItemFailures)."""

    def record_handler(record: SQSRecord) -> dict[str, str]:
        try:
            return record_example(record, context)
        except Exception as exc:  # reported for redelivery; said here, since the batch processor is silent
            error = type(exc).__name__ if isinstance(exc, ValidationError) else f"{type(exc).__name__}: {short(exc)}"
            logger.warning("training example failed", extra={"message_id": record.message_id, "error": error})
            raise

    return process_counted(
        event, record_handler, processor, context,
        received_name="TrainingExamplesReceived", failed_name="TrainingExamplesFailed",
    )  # fmt: skip
