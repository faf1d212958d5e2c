"""Route jobs from SQS are checked as HTTP jobs are, and a job id belongs to one request."""

from __future__ import annotations

import copy
import json
from typing import Any

import boto3

from tests.conftest import Gateway, load_event


def _batch(*bodies: dict[str, Any]) -> dict[str, Any]:
    """An SQS batch of route jobs, one message per body (the template event's first record as the model)."""
    event = load_event("sqs_route_jobs")
    model = event["Records"][0]
    event["Records"] = []
    for number, body in enumerate(bodies):
        record = copy.deepcopy(model)
        record["messageId"] = f"message-{number}-{str(body.get('job_id', 'none'))[:20]}"
        record["body"] = json.dumps(body)
        event["Records"].append(record)
    return event


def _job(gateway: Gateway, job_id: str) -> dict[str, Any] | None:
    table = boto3.resource("dynamodb").Table(gateway.resources.jobs_table)
    return table.get_item(Key={"job_id": job_id}).get("Item")


def test_a_job_id_reused_with_another_prompt_is_refused_not_answered_with_the_first_answer(gateway: Gateway) -> None:
    # Given a job answered under an id
    first = {"job_id": "job-shared", "user_id": "user-1", "prompt": "What is a Python generator?"}
    assert gateway.invoke("route", _batch(first)) == {"batchItemFailures": []}
    answered = json.loads(str(_job(gateway, "job-shared")["result"]))  # type: ignore[index]
    calls = len(gateway.emulator.calls)
    # When another user's different request arrives under the same id
    other = {"job_id": "job-shared", "user_id": "user-2", "prompt": "Write my bank password reset email."}
    result = gateway.invoke("route", _batch(other))
    # Then it fails (redelivered, then dead-lettered), nothing is asked of a provider, and the first job keeps its
    # own answer: nobody is handed another request's answer
    assert result == {"batchItemFailures": [{"itemIdentifier": "message-0-job-shared"}]}
    assert len(gateway.emulator.calls) == calls
    job = _job(gateway, "job-shared")
    assert job is not None
    assert (job["status"], json.loads(str(job["result"]))) == ("done", answered)


def test_a_job_id_the_api_would_refuse_is_refused_before_any_provider_is_paid(gateway: Gateway) -> None:
    # Given jobs whose ids GET /v1/jobs/{job_id} could never read back (too long for a DynamoDB key, odd characters)
    bodies: list[dict[str, Any]] = [
        {"job_id": "j" * 3000, "user_id": "user-1", "prompt": "What is a Python generator?"},
        {"job_id": "has spaces/and slashes", "user_id": "user-1", "prompt": "What is a Python generator?"},
        {"job_id": 12345, "user_id": "user-1", "prompt": "What is a Python generator?"},
    ]
    # When they arrive from SQS
    result = gateway.invoke("route", _batch(*bodies))
    # Then each fails on its own, before any provider is called
    assert len(result["batchItemFailures"]) == 3
    assert gateway.emulator.calls == []


def test_a_job_with_a_field_the_api_refuses_is_refused_before_any_provider_is_paid(gateway: Gateway) -> None:
    body = {"job_id": "job-extra", "user_id": "user-1", "prompt": "Hi", "max_output_tokens": "many"}
    result = gateway.invoke("route", _batch(body))
    assert len(result["batchItemFailures"]) == 1
    assert gateway.emulator.calls == []
    assert _job(gateway, "job-extra") is None
