"""Route jobs from SQS: answered with the route logic, failures reported per message."""

from __future__ import annotations

import json
from typing import Any

import boto3

from tests.conftest import Gateway, load_event


def _job(gateway: Gateway, job_id: str) -> dict[str, Any] | None:
    table = boto3.resource("dynamodb").Table(gateway.resources.jobs_table)
    return table.get_item(Key={"job_id": job_id}).get("Item")


def test_a_batch_of_jobs_is_answered_and_stored(gateway: Gateway) -> None:
    result = gateway.invoke("route", load_event("sqs_route_jobs"))
    assert result == {"batchItemFailures": []}
    for job_id in ("job-0001", "job-0002"):
        item = _job(gateway, job_id)
        assert item is not None
        assert item["status"] == "done"
        assert json.loads(item["result"])["provider"] == "slm"
        assert item["expires_at"] > item["finished_at"]


def test_a_poison_message_fails_alone(gateway: Gateway) -> None:
    # Given a batch whose second message is not a valid route request
    event = load_event("sqs_route_jobs")
    poison = event["Records"][1]
    poison["body"] = json.dumps({"job_id": "job-0002", "prompt": "no user id"})
    # When the batch is handled
    result = gateway.invoke("route", event)
    # Then only the poison message is reported for redelivery (and, after maxReceiveCount, the DLQ)
    assert result == {"batchItemFailures": [{"itemIdentifier": poison["messageId"]}]}
    assert _job(gateway, "job-0001") is not None
    assert _job(gateway, "job-0002") is None


def test_a_job_whose_providers_all_fail_is_not_lost(gateway: Gateway) -> None:
    gateway.emulator.fail("*", "status", status=500)
    event = load_event("sqs_route_jobs")
    result = gateway.invoke("route", event)
    assert len(result["batchItemFailures"]) == 2
    assert _job(gateway, "job-0001") is None
