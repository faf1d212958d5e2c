"""New interactions from the interactions table's stream, through the repetition detector
(`gateway.learning.repetition`): failures are reported per record, so Lambda retries from the first one."""

from __future__ import annotations

import math
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from gateway.core.errors import short
from gateway.endpoints.batches import process_counted
from gateway.learning.repetition import detect
from gateway.observability import logger

processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)


def handle_interactions_batch(event: dict[str, Any], context: LambdaContext | None) -> dict[str, Any]:
    """Run the detector over a batch of stream records; failures are reported per record."""

    def remaining_s() -> float:
        return context.get_remaining_time_in_millis() / 1000 if context is not None else math.inf

    def record_handler(record: DynamoDBRecord) -> float | None:
        try:
            return detect(record, remaining_s)
        except Exception as exc:  # reported for a retry; said here, since the batch processor is silent
            logger.warning(
                "new interaction not compared",
                extra={"sequence_number": record.dynamodb and record.dynamodb.sequence_number, "error": short(exc)},
            )
            raise

    return process_counted(
        event, record_handler, processor, context,
        received_name="InteractionsReceived", failed_name="InteractionsNotCompared",
    )  # fmt: skip
