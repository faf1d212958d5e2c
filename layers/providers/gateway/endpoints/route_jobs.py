"""Asynchronous route jobs over HTTP: queued by `POST /v1/jobs`, read by `GET /v1/jobs/{id}`; answered from
the queue by `gateway.endpoints.route_job_queue`."""

from __future__ import annotations

import contextlib
import uuid
from typing import Any, Literal

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel, Field

from gateway.config.context import RequestContext
from gateway.config.settings import Settings, get_settings
from gateway.core.errors import ConfigurationError, JobNotFoundError, StoreUnavailableError
from gateway.endpoints import route
from gateway.observability import logger, metrics
from gateway.stores.jobs import JobStore
from gateway.stores.queues import QueueSender

JOB_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,128}$"
API_KEY_ATTRIBUTE = "api_key_id"  # the message attribute naming the API key a job is answered for


class JobAccepted(BaseModel):
    job_id: str
    status: Literal["queued"] = "queued"
    status_url: str = Field(description="GET it for the job's status and, once done, its answer")


class JobOut(BaseModel):
    job_id: str
    status: Literal["queued", "retrying", "failed", "done"]
    result: dict[str, Any] | None = Field(None, description="the answer, as POST /v1/route gives it")
    error: str | None = Field(None, description="why the last attempt failed")


def jobs_store(settings: Settings) -> JobStore:
    """The jobs table; a ConfigurationError when there is none."""
    if not settings.jobs_table:
        raise ConfigurationError("JOBS_TABLE is not set: queued jobs have nowhere to be stored")
    return JobStore(settings.jobs_table, settings.job_retention_s)


def enqueue(request: route.RouteRequest, ctx: RequestContext) -> JobAccepted:
    """Record a job as queued and send it to the route jobs queue."""
    if not ctx.settings.route_jobs_queue_url:
        raise ConfigurationError("ROUTE_JOBS_QUEUE_URL is not set: jobs cannot be queued")
    job_id = str(uuid.uuid4())
    jobs = jobs_store(ctx.settings)
    try:
        jobs.put_queued(job_id, ctx.request_id)
    except Exception as exc:
        raise _unavailable("the job store", exc) from exc
    try:
        body = {"job_id": job_id, **request.model_dump(exclude_none=True)}
        # The key travels beside the body: its budget and usage count the job, and a body is the client's.
        attributes = {API_KEY_ATTRIBUTE: ctx.api_key_id} if ctx.api_key_id else None
        QueueSender(ctx.settings.route_jobs_queue_url).send(body, attributes)
    except Exception as exc:
        with contextlib.suppress(Exception):  # best effort: the client is told the job was not queued either way
            jobs.record_failure(job_id, "the job could not be queued", final=True)
        raise _unavailable("the job queue", exc) from exc
    metrics.add_metric(name="JobsQueued", unit=MetricUnit.Count, value=1)
    return JobAccepted(job_id=job_id, status_url=f"/v1/jobs/{job_id}")


def get_job(job_id: str) -> JobOut:
    """`GET /v1/jobs/{job_id}`: the job's status, and its answer once done."""
    try:
        job = jobs_store(get_settings()).get(job_id)
    except ConfigurationError:
        raise
    except Exception as exc:
        raise _unavailable("the job store", exc) from exc
    if job is None:
        raise JobNotFoundError(f"no job {job_id!r} (unknown, or past its retention)")
    return JobOut.model_validate(job)


def _unavailable(what: str, exc: Exception) -> StoreUnavailableError:
    logger.error(f"{what} is unavailable", extra={"error": f"{type(exc).__name__}: {exc}"})
    return StoreUnavailableError(f"{what} is unavailable right now ({type(exc).__name__}); send the request again")
