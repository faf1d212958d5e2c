"""The training consumer: new interactions from the interactions table's stream become training examples
(repetition detection), and examples from the training queue are written once each to the S3 dataset."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from gateway.http.events import batch_of
from gateway.http.lambda_entry import event_entry


def on_event(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if batch_of(event, "aws:dynamodb", "aws:sqs") == "aws:dynamodb":  # one event source per batch
        from gateway.endpoints.interactions_stream import handle_interactions_batch  # each path imports its own

        return handle_interactions_batch(event, context)
    from gateway.endpoints.training_queue import handle_training_batch

    return handle_training_batch(event, context)


handler = event_entry(on_event)
