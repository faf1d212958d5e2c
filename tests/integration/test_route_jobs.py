"""Route jobs from SQS: answered with the route logic, failures reported per message."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import boto3

from dev.lambda_runtime import api_event
from dev.sqs_poller import SqsPoller
from tests.conftest import Answer, Gateway, load_event

if TYPE_CHECKING:
    from mypy_boto3_sqs.literals import QueueAttributeNameType


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


# --------------------------------------------------------------------------- queued through the API (issue 4)


def _get(gateway: Gateway, job_id: str) -> Answer:
    event = api_event("GET", f"/v1/jobs/{job_id}", resource="/v1/jobs/{job_id}")
    event["pathParameters"] = {"job_id": job_id}
    return gateway.call("route", event)


def _poller(gateway: Gateway) -> SqsPoller:
    return SqsPoller(gateway.resources.route_jobs_queue_url, "route")


def _send(gateway: Gateway, body: Any) -> None:
    text = body if isinstance(body, str) else json.dumps(body)
    boto3.client("sqs").send_message(QueueUrl=gateway.resources.route_jobs_queue_url, MessageBody=text)


def _queued(gateway: Gateway, prompt: str) -> str:
    accepted = gateway.call("route", load_event("route_job_post", prompt=prompt))
    assert accepted.status == 202
    job_id: str = accepted.body["job_id"]
    return job_id


def _messages_in(queue_url: str) -> int:
    names: list[QueueAttributeNameType] = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attributes = boto3.client("sqs").get_queue_attributes(QueueUrl=queue_url, AttributeNames=names)["Attributes"]
    return sum(int(attributes[name]) for name in names)


def _dead_letters(gateway: Gateway) -> list[str]:
    messages = boto3.client("sqs").receive_message(
        QueueUrl=gateway.resources.route_jobs_dlq_url, MaxNumberOfMessages=10
    )
    return [m["Body"] for m in messages.get("Messages", [])]


def test_a_queued_job_is_answered_and_can_be_fetched(gateway: Gateway) -> None:
    # When a route request is queued
    accepted = gateway.call("route", load_event("route_job_post"))
    # Then the client gets a job id to poll, and nothing is answered yet
    assert accepted.status == 202
    job_id = accepted.body["job_id"]
    assert accepted.body == {"job_id": job_id, "status": "queued", "status_url": f"/v1/jobs/{job_id}"}
    assert accepted.headers["location"] == f"/v1/jobs/{job_id}"
    assert _get(gateway, job_id).body == {"job_id": job_id, "status": "queued"}
    assert gateway.emulator.calls == []
    # When the queue's consumer runs
    counts = _poller(gateway).drain()
    # Then the job is answered with the route logic, and its result can be fetched
    assert (counts.succeeded, counts.failed) == (1, 0)
    done = _get(gateway, job_id)
    assert done.status == 200
    assert done.body["status"] == "done"
    assert done.body["result"]["provider"] == "slm"
    assert done.body["result"]["topic"] == "writing"
    assert done.body["result"]["request_id"] == job_id


def test_an_unknown_job_is_a_404(gateway: Gateway) -> None:
    answer = _get(gateway, "no-such-job")
    assert answer.status == 404
    assert answer.body["error"]["code"] == "not_found"


def test_a_poison_message_lands_in_the_dlq_and_the_rest_succeed(gateway: Gateway) -> None:
    # Given two good jobs and, between them, a message that is not a route request
    first = _queued(gateway, "Summarise the benefits of serverless in one sentence.")
    _send(gateway, {"job_id": "poison", "prompt": "no user id"})
    second = _queued(gateway, "What is a Python generator?")
    # When the consumer drains the queue (redeliveries come from the template's redrive policy)
    counts = _poller(gateway).drain()
    # Then the good jobs are answered, and the poison was tried maxReceiveCount (3) times, then dead-lettered
    assert {_get(gateway, first).body["status"], _get(gateway, second).body["status"]} == {"done"}
    assert counts.failed == 3
    assert [json.loads(body)["job_id"] for body in _dead_letters(gateway)] == ["poison"]
    assert _messages_in(gateway.resources.route_jobs_queue_url) == 0


def test_a_job_that_keeps_failing_is_marked_failed(gateway: Gateway) -> None:
    # Given every provider failing
    gateway.emulator.fail("*", "status", status=500)
    job_id = _queued(gateway, "What is a Python generator?")
    # When the consumer drains the queue
    _poller(gateway).drain()
    # Then the job says why it failed, and its message is in the DLQ
    job = _get(gateway, job_id).body
    assert job["status"] == "failed"
    assert job["error"].startswith("all_providers_failed")
    assert len(_dead_letters(gateway)) == 1


def test_a_job_delivered_twice_is_answered_once(gateway: Gateway) -> None:
    # Given the same job delivered in two messages (SQS delivers at least once)
    body = {"job_id": "job-twice", "user_id": "user-123", "prompt": "What is a Python generator?"}
    _send(gateway, body)
    _send(gateway, body)
    # When the consumer handles both
    counts = _poller(gateway).drain()
    # Then both messages succeed, but the providers answered once and one interaction was recorded
    assert (counts.succeeded, counts.failed) == (2, 0)
    assert [c.provider for c in gateway.emulator.calls] == ["slm"]
    table = boto3.resource("dynamodb").Table(gateway.resources.names["InteractionsTable"])
    assert len(table.scan()["Items"]) == 1
    result = json.loads(str(_job(gateway, "job-twice")["result"]))  # type: ignore[index]
    assert result["cached"] is False


def test_no_message_is_lost(gateway: Gateway) -> None:
    # Given good jobs, a duplicate and poison messages of every kind
    prompts = [f"Question number {n}: what is {n} squared?" for n in range(5)]
    jobs = [_queued(gateway, prompt) for prompt in prompts]
    duplicate = {"job_id": jobs[0], "user_id": "user-123", "prompt": prompts[0], "language": "en"}
    _send(gateway, duplicate)  # a duplicate delivery: the same message again
    _send(gateway, "{not json")
    _send(gateway, json.dumps(["not", "an", "object"]))
    _send(gateway, {"job_id": "no-user", "prompt": "Who am I?"})
    sent = len(jobs) + 4
    # When the consumer drains the queue
    counts = _poller(gateway).drain()
    # Then every message is accounted for: answered (acknowledged) or in the DLQ, none left behind
    dead = _dead_letters(gateway)
    assert counts.succeeded + len(dead) == sent
    assert (counts.succeeded, len(dead)) == (6, 3)
    assert _messages_in(gateway.resources.route_jobs_queue_url) == 0
    # And each job was answered exactly once
    assert all(_get(gateway, job_id).body["status"] == "done" for job_id in jobs)
    assert len(gateway.emulator.calls) == len(jobs)
