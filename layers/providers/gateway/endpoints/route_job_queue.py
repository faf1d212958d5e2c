"""Route jobs from SQS: each message is a route request with its `job_id`, answered with the same logic as
`POST /v1/route` and stored for `GET /v1/jobs/{id}`.

A message that cannot be answered (invalid body, every provider failing) is reported as a batch item
failure, so SQS redelivers it and, after the queue's maxReceiveCount, moves it to the DLQ; the rest
of its batch is unaffected. A job delivered twice is answered once: Powertools idempotency keyed on
the job id returns the first answer to the second delivery. Apart from `route_jobs` so that the route
function's HTTP cold start never imports Powertools batch processing.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from gateway.config.context import RequestContext
from gateway.config.settings import get_settings
from gateway.core import runtime
from gateway.core.errors import ConfigurationError, GatewayError, short
from gateway.endpoints import route
from gateway.endpoints.route_jobs import jobs_store
from gateway.observability import logger, metrics
from gateway.stores.idempotency import once_per_key

# A batch whose every record failed is reported record by record too, rather than as an invocation
# error: SQS redelivers the same messages either way, and the function's error metric stays meaningful.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def _answer_and_store(job: dict[str, Any], remaining_ms: int | None) -> dict[str, str]:
    """Answer one job and store its result (runs once per job id)."""
    body = dict(job)
    job_id = str(body.pop("job_id"))
    request = route.RouteRequest.model_validate(body)
    ctx = RequestContext.for_invocation(job_id, remaining_ms)
    response = runtime.run(route.answer(request, ctx))
    jobs_store(ctx.settings).put_result(job_id, response.model_dump(mode="json", exclude_none=True))
    metrics.add_metric(name="JobsAnswered", unit=MetricUnit.Count, value=1)
    logger.info("route job answered", extra={"job_id": job_id, "provider": response.provider})
    return {"job_id": job_id, "provider": response.provider}


def answer_job(record: SQSRecord, context: LambdaContext | None) -> str:
    """Answer one queued route request, unless an earlier delivery of the same job id already did."""
    settings = get_settings()
    if not settings.idempotency_table:
        raise ConfigurationError("IDEMPOTENCY_TABLE is not set: a redelivered job would be answered twice")
    body = json.loads(record.body)
    if not isinstance(body, dict):
        raise ValueError("a route job must be a JSON object")
    job_id = str(body.get("job_id") or record.message_id)
    try:
        answer_once = once_per_key(
            _answer_and_store,
            data_keyword="job",
            key_field="job_id",
            purpose="route-job",
            table_name=settings.idempotency_table,
            expires_after_s=settings.job_retention_s,
            context=context,
        )
        remaining = context.get_remaining_time_in_millis() if context is not None else None
        answer_once(job={**body, "job_id": job_id}, remaining_ms=remaining)
    except Exception as exc:
        final = int(record.attributes.approximate_receive_count) >= settings.job_max_receives
        logger.warning("route job failed", extra={"job_id": job_id, "error": _describe(exc), "final": final})
        if settings.jobs_table:
            jobs_store(settings).record_failure(job_id, _describe(exc), final=final)
        raise
    return job_id


def _describe(exc: Exception) -> str:
    """A failure as a job's owner may read it: no stack, no input echoed back."""
    if isinstance(exc, GatewayError):
        return short(f"{exc.code}: {exc.message}")
    if isinstance(exc, ValidationError):
        fields = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors())
        return short(f"invalid job: {fields}")
    return short(f"{type(exc).__name__}: {exc}")


def handle_batch(event: dict[str, Any], context: LambdaContext | None) -> dict[str, Any]:
    """Answer a batch of jobs; failures are reported per message (ReportBatchItemFailures)."""

    def record_handler(record: SQSRecord) -> str:
        return answer_job(record, context)

    metrics.add_metric(name="JobsReceived", unit=MetricUnit.Count, value=len(event.get("Records", [])))
    result = process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    failures = len(result.get("batchItemFailures", []))
    if failures:
        metrics.add_metric(name="JobsFailed", unit=MetricUnit.Count, value=failures)
    return dict(result)
