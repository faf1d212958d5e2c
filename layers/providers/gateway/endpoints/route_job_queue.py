"""Route jobs from SQS: each message is a route request with its `job_id`, validated as `POST /v1/jobs` validates
one, answered with the same logic as `POST /v1/route` and stored for `GET /v1/jobs/{id}`.

A message that cannot be answered (invalid body or job id, every provider failing) is reported as a batch item
failure, so SQS redelivers it and, after the queue's maxReceiveCount, moves it to the DLQ; the rest of its batch is
unaffected. A job delivered twice is answered once: Powertools idempotency keyed on the job id keeps the first
answer, and returns it to a redelivery, which then only stores it (a result that could not be stored the first time
is stored then, without paying for the answer again). A job id reused with another request is refused, never
answered with the first one's answer. Apart from `route_jobs` so that the route function's HTTP cold start never
imports Powertools batch processing.
"""

from __future__ import annotations

import json
import re
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyValidationError
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from gateway.config.context import RequestContext
from gateway.config.settings import get_settings
from gateway.core import runtime
from gateway.core.errors import ConfigurationError, GatewayError, short
from gateway.endpoints import route
from gateway.endpoints.batches import process_counted
from gateway.endpoints.route_jobs import API_KEY_ATTRIBUTE, JOB_ID_PATTERN, jobs_store
from gateway.observability import logger, metrics
from gateway.stores.idempotency import once_per_key

# A batch whose every record failed is reported record by record too, rather than as an invocation
# error: SQS redelivers the same messages either way, and the function's error metric stays meaningful.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def _answer(job: dict[str, Any], remaining_ms: int | None, api_key_id: str | None = None) -> dict[str, Any]:
    """Answer one job (runs once per job id): the answer, kept by the idempotency record for a redelivery."""
    body = dict(job)
    job_id = str(body.pop("job_id"))
    request = route.RouteRequest.model_validate(body)
    ctx = RequestContext.for_invocation(job_id, remaining_ms, api_key_id)
    response = runtime.run(route.answer(request, ctx))
    metrics.add_metric(name="JobsAnswered", unit=MetricUnit.Count, value=1)
    logger.info("route job answered", extra={"job_id": job_id, "provider": response.provider})
    answer: dict[str, Any] = response.model_dump(mode="json", exclude_none=True)
    return answer


def read_job(record: SQSRecord) -> dict[str, Any]:
    """The job a message carries, validated as `POST /v1/jobs` validates a request; its `job_id` as the API
    allows one (the message id when it has none). A ValueError or ValidationError names what is wrong."""
    try:
        body = json.loads(record.body)
    except ValueError:
        raise ValueError("a route job must be a JSON object; the message body is not JSON") from None
    if not isinstance(body, dict):
        raise ValueError(f"a route job must be a JSON object, not {type(body).__name__}")
    job_id = body.pop("job_id", None)
    job_id = record.message_id if job_id is None else job_id
    if not isinstance(job_id, str) or not re.fullmatch(JOB_ID_PATTERN, job_id):
        raise ValueError(f"job_id must be 1-128 letters, digits or ._:- (pattern {JOB_ID_PATTERN})")
    request = route.RouteRequest.model_validate(body)
    return {"job_id": job_id, **request.model_dump(exclude_none=True)}


def answer_job(record: SQSRecord, context: LambdaContext | None) -> str:
    """Answer one queued route request, unless an earlier delivery of the same job id already did."""
    settings = get_settings()
    if not settings.idempotency_table:
        raise ConfigurationError("IDEMPOTENCY_TABLE is not set: a redelivered job would be answered twice")
    job_id = _job_id_of(record)
    try:
        job = read_job(record)
        job_id = str(job["job_id"])
        answer_once = once_per_key(
            _answer,
            data_keyword="job",
            key_field="job_id",
            purpose="route-job",
            table_name=settings.idempotency_table,
            expires_after_s=settings.job_retention_s,
            context=context,
            same_payload=True,
        )
        remaining = context.get_remaining_time_in_millis() if context is not None else None
        try:
            answer = answer_once(job=job, remaining_ms=remaining, api_key_id=_api_key_id_of(record))
        except IdempotencyValidationError:
            raise ValueError(f"job_id {job_id!r} was already used for another request; use a new job_id") from None
        # Stored apart from the answer: a store that fails here is retried by the redelivery, which finds the answer
        # kept by the idempotency record and pays for nothing twice.
        jobs_store(settings).put_result(job_id, answer)
    except Exception as exc:
        final = int(record.attributes.approximate_receive_count) >= settings.job_max_receives
        logger.warning("route job failed", extra={"job_id": job_id, "error": _describe(exc), "final": final})
        if settings.jobs_table and re.fullmatch(JOB_ID_PATTERN, job_id):
            jobs_store(settings).record_failure(job_id, _describe(exc), final=final)
        raise
    return job_id


def _api_key_id_of(record: SQSRecord) -> str | None:
    """The API key the job was queued with (`POST /v1/jobs` names it beside the body); None for a job sent to the
    queue directly."""
    attributes = record.raw_event.get("messageAttributes") or {}
    attribute = attributes.get(API_KEY_ATTRIBUTE) if isinstance(attributes, dict) else None
    value = attribute.get("stringValue") if isinstance(attribute, dict) else None
    return value if isinstance(value, str) and value else None


def _job_id_of(record: SQSRecord) -> str:
    """The job id to report a failure under, before the job is validated (the message id when unreadable)."""
    try:
        body = json.loads(record.body)
    except ValueError:
        return str(record.message_id)
    job_id = body.get("job_id") if isinstance(body, dict) else None
    return short(job_id, 140) if isinstance(job_id, str) and job_id else str(record.message_id)


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

    return process_counted(
        event, record_handler, processor, context, received_name="JobsReceived", failed_name="JobsFailed"
    )
