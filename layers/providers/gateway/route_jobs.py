"""Asynchronous route jobs from SQS: each message is a route request, answered with the same logic.

A message that cannot be answered (invalid body, every provider failing) is reported as a batch
item failure, so SQS redelivers it and, after the queue's maxReceiveCount, moves it to the DLQ.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from gateway import route
from gateway.chain import Deadline
from gateway.errors import ConfigurationError
from gateway.observability import logger, metrics
from gateway.request_context import RequestContext
from gateway.settings import get_settings
from gateway.stores.jobs import JobStore
from gateway.stores.secrets import load_provider_keys
from gateway.web import event_loop

# A batch whose every record failed is reported record by record too, rather than as an invocation
# error: SQS redelivers the same messages either way, and the function's error metric stays meaningful.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def answer_job(record: SQSRecord, remaining_ms: int | None) -> str:
    """Answer one queued route request and store the result under its job id."""
    settings = get_settings()
    if not settings.jobs_table:
        raise ConfigurationError("JOBS_TABLE is not set: queued jobs have nowhere to be stored")
    body = json.loads(record.body)
    if not isinstance(body, dict):
        raise ValueError("a route job must be a JSON object")
    job_id = str(body.pop("job_id", None) or record.message_id)
    request = route.RouteRequest.model_validate(body)
    ctx = RequestContext(settings, load_provider_keys(settings), job_id, Deadline.for_request(remaining_ms))
    response = event_loop().run_until_complete(route.answer(request, ctx))
    JobStore(settings.jobs_table, settings.job_retention_s).put_result(
        job_id, response.model_dump(mode="json", exclude_none=True)
    )
    metrics.add_metric(name="JobsAnswered", unit=MetricUnit.Count, value=1)
    logger.info("route job answered", extra={"job_id": job_id, "provider": response.provider})
    return job_id


def handle_batch(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Answer a batch of jobs; failures are reported per message (ReportBatchItemFailures)."""
    remaining = context.get_remaining_time_in_millis() if context is not None else None

    def record_handler(record: SQSRecord) -> str:
        return answer_job(record, remaining)

    metrics.add_metric(name="JobsReceived", unit=MetricUnit.Count, value=len(event.get("Records", [])))
    result = process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    failures = len(result.get("batchItemFailures", []))
    if failures:
        metrics.add_metric(name="JobsFailed", unit=MetricUnit.Count, value=failures)
    return dict(result)
