"""Every DynamoDB call the gateway makes, under every fault the real service produces, through the real handlers.

AWS is moto behind the fault injector, which answers with DynamoDB's own error shapes. botocore makes one attempt
(`AWS_MAX_ATTEMPTS=1`): a fault here is one that outlasted its retries. For each call and fault the client's answer and
the state left behind are asserted: a store that cannot be written never turns a provider's answer into an error the
user pays for twice, a ledger write that fails is retried or released (never leaked), and a conflict is never reported
as the spend cap.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from dev.lambda_runtime import api_event
from tests.conftest import Answer, load_event
from tests.resilience.conftest import FaultyGateway

FAULTS: dict[str, dict[str, Any]] = {
    "throttled": {"error": "throttle"},  # ProvisionedThroughputExceededException, naming the key range
    "a transaction holds the item": {"error": "conflict"},  # TransactionConflictException
    "an internal error": {"error": "internal"},  # InternalServerError (500)
    "200 ms slower": {"delay_s": 0.2},
}
_prompts = itertools.count()


def _route(gateway: FaultyGateway, prompt: str | None = None) -> Answer:
    return gateway.call("route", load_event("route", prompt=prompt or f"Say hello, request {next(_prompts)}"))


def _table(gateway: FaultyGateway, logical_id: str) -> Any:
    resource = boto3.resource(
        "dynamodb", endpoint_url=gateway.injector.upstream, region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )  # fmt: skip
    return resource.Table(gateway.resources.names[logical_id])


def _items(gateway: FaultyGateway, logical_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = _table(gateway, logical_id).scan()["Items"]
    return items


def _ledger(gateway: FaultyGateway) -> dict[str, Any]:
    items = [i for i in _items(gateway, "ProviderStateTable") if str(i["pk"]).startswith("spend-units#")]
    return items[0] if items else {}


# --------------------------------------------------------------------------- what each call's faults must leave


def cache_read(gateway: FaultyGateway, failing: bool) -> None:
    # The answer cache cannot be read: the request is answered by a provider, as if nothing were cached
    answer = _route(gateway)
    assert answer.status == 200
    assert answer.body["cached"] is False


def cache_write(gateway: FaultyGateway, failing: bool) -> None:
    # The answer cannot be cached: the client still gets it; the same prompt is simply not served from the cache
    prompt = f"Say hello, request {next(_prompts)}"
    assert _route(gateway, prompt).status == 200
    # and the interaction, written in the same batch, is not lost with it
    assert len(_items(gateway, "InteractionsTable")) == 1
    gateway.injector.clear_faults()
    assert _route(gateway, prompt).body["cached"] is not failing


def ledger_lease(gateway: FaultyGateway, failing: bool) -> None:
    # The spend ledger cannot be written: the cap cannot be checked, so no provider is paid, and the client is told
    # the providers are unavailable (503), not that the cap is reached (429)
    answer = _route(gateway)
    if not failing:
        assert answer.status == 200
        return
    assert answer.status == 503
    assert answer.body["error"]["code"] == "providers_unavailable"
    assert {a["outcome"] for a in answer.body["error"]["details"]["attempts"]} == {"ledger_unavailable"}
    assert gateway.emulator.calls == []
    assert int(_ledger(gateway).get("committed", 0)) == 0  # nothing leased, nothing leaked


def ledger_return(gateway: FaultyGateway, failing: bool) -> None:
    # The lease cannot be given back at the end of the request: the answer is unaffected, the instance keeps the
    # lease, and gives it back with the next request's: nothing stays committed that was not spent
    first = _route(gateway)
    assert first.status == 200
    if failing:
        assert int(_ledger(gateway)["spent"]) == 0  # not reported yet: still held by the instance
    gateway.injector.clear_faults()
    second = _route(gateway)
    ledger = _ledger(gateway)
    spent = sum(a.body["usage"]["cost_usd"] for a in (first, second))
    assert int(ledger["committed"]) == int(ledger["spent"])
    assert int(ledger["spent"]) / 10**10 == pytest.approx(spent)


def breaker_read(gateway: FaultyGateway, failing: bool) -> None:
    # The circuits cannot be read: they fail open, and the request is answered
    answer = _route(gateway)
    assert answer.status == 200
    assert answer.body["attempts"][0]["outcome"] == "ok"


def breaker_write(gateway: FaultyGateway, failing: bool) -> None:
    # A failure cannot be counted: the fallback's answer is the client's, and the count is kept and written with the
    # next one (nothing the breaker should know is lost)
    gateway.emulator.fail("slm", "status", status=503)
    assert _route(gateway).body["provider"] == "gemini"
    gateway.injector.clear_faults()
    assert _route(gateway).body["provider"] == "gemini"
    item = _table(gateway, "ProviderStateTable").get_item(Key={"pk": "breaker#slm#slm"})["Item"]
    assert item["failures"] == 2


def interactions(gateway: FaultyGateway, failing: bool) -> None:
    # The interaction cannot be recorded: the client gets its answer; the learning loop misses one example
    prompt = f"Say hello, request {next(_prompts)}"
    assert _route(gateway, prompt).status == 200
    assert len(_items(gateway, "InteractionsTable")) == (0 if failing else 1)
    # and the cache entry, written in the same batch, is not lost with it
    gateway.injector.clear_faults()
    assert _route(gateway, prompt).body["cached"] is True


def job_queued(gateway: FaultyGateway, failing: bool) -> None:
    # POST /v1/jobs cannot store the job: a 503 saying so (send it again), and nothing is queued to be lost
    answer = gateway.call("route", load_event("route_job_post"))
    if not failing:
        assert answer.status == 202
        return
    assert answer.status == 503
    assert answer.body["error"]["code"] == "store_unavailable"
    queue = boto3.client(
        "sqs", endpoint_url=gateway.injector.upstream, region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )  # fmt: skip
    messages = queue.get_queue_attributes(
        QueueUrl=gateway.resources.route_jobs_queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    assert messages["ApproximateNumberOfMessages"] == "0"


def _sqs_job(job_id: str) -> dict[str, Any]:
    event = load_event("sqs_route_jobs")
    event["Records"] = event["Records"][:1]
    body = {"job_id": job_id, "user_id": "user-1", "prompt": f"What is a Python generator? ({job_id})"}
    event["Records"][0]["body"] = json.dumps(body)
    return event


def job_result(gateway: FaultyGateway, failing: bool) -> None:
    # The answer of a queued job cannot be stored: the message is redelivered, and the redelivery stores the answer
    # the idempotency record kept, without asking (and paying) a provider again
    job_id = f"job-{next(_prompts)}"
    first = gateway.invoke("route", _sqs_job(job_id))
    assert len(first["batchItemFailures"]) == (1 if failing else 0)
    gateway.injector.clear_faults()
    assert gateway.invoke("route", _sqs_job(job_id)) == {"batchItemFailures": []}
    assert len(gateway.emulator.calls) == 1
    job = _table(gateway, "JobsTable").get_item(Key={"job_id": job_id})["Item"]
    assert job["status"] == "done"


def idempotency(gateway: FaultyGateway, failing: bool) -> None:
    # The job cannot be marked in progress: it is not answered (nobody pays), and its redelivery is
    job_id = f"job-{next(_prompts)}"
    first = gateway.invoke("route", _sqs_job(job_id))
    assert len(first["batchItemFailures"]) == (1 if failing else 0)
    assert len(gateway.emulator.calls) == (0 if failing else 1)
    gateway.injector.clear_faults()
    assert gateway.invoke("route", _sqs_job(job_id)) == {"batchItemFailures": []}
    assert len(gateway.emulator.calls) == 1


@dataclass(frozen=True)
class Call:
    operations: tuple[str, ...]
    check: Callable[[FaultyGateway, bool], None]
    table: str | None = None
    key_prefix: str | None = None
    after: int = 0
    env: tuple[tuple[str, str], ...] = ()


# The cache entry and the interaction go in one BatchWriteItem; a batch refused whole is written item by item.
ANSWER_WRITES = ("BatchWriteItem", "PutItem")
NO_ANSWER_CACHE = (("CACHE_TTL_SECONDS", "0"),)  # a redelivery is not answered from the answer cache
CAPPED = (("AI_DAILY_COST_LIMIT", "5"), ("SLM_MODE", "local"), ("SPEND_LEASE_SECONDS", "0"))
CALLS = {
    "cache read": Call(("GetItem",), cache_read, table="CacheTable"),
    "cache write": Call(ANSWER_WRITES, cache_write, table="CacheTable"),
    "ledger lease": Call(("UpdateItem",), ledger_lease, key_prefix="spend-units#", env=CAPPED),
    "ledger return": Call(("UpdateItem",), ledger_return, key_prefix="spend-units#", after=1, env=CAPPED),
    "breaker read": Call(("BatchGetItem",), breaker_read, key_prefix="breaker#"),
    "breaker write": Call(("UpdateItem",), breaker_write, key_prefix="breaker#", env=(("BREAKER_FLUSH_MS", "0"),)),
    "interaction write": Call(ANSWER_WRITES, interactions, table="InteractionsTable"),
    "job queued": Call(("PutItem",), job_queued, table="JobsTable"),
    "job result": Call(("PutItem",), job_result, table="JobsTable", env=NO_ANSWER_CACHE),
    "idempotency record": Call(("PutItem",), idempotency, table="IdempotencyTable", env=NO_ANSWER_CACHE),
}


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("call", CALLS)
def test_aws_fault_matrix(
    faulty_gateway: FaultyGateway, monkeypatch: pytest.MonkeyPatch, call: str, fault: str
) -> None:
    spec = CALLS[call]
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    for name, value in spec.env:
        monkeypatch.setenv(name, value)
    # Given DynamoDB answering this call with this fault (until the check clears it)
    for operation in spec.operations:
        faulty_gateway.injector.fail(
            "dynamodb", operation, key_prefix=spec.key_prefix, table=spec.table, after=spec.after, **FAULTS[fault]
        )
    # Then the client's answer and the state left behind are as the call's check says
    spec.check(faulty_gateway, "error" in FAULTS[fault])
    # And the fault was met (the matrix tests what it says it tests)
    injected = sum(faulty_gateway.injector.count(f"injected:{operation}") for operation in spec.operations)
    assert injected + ("delay_s" in FAULTS[fault]) >= 1


def test_a_queued_job_whose_message_cannot_be_sent_is_a_503_and_marked_failed(
    faulty_gateway: FaultyGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    # Given SQS throttling the route jobs queue
    faulty_gateway.injector.fail("sqs", "SendMessage", "throttle")
    # When a job is posted
    answer = faulty_gateway.call("route", load_event("route_job_post"))
    # Then the client is told to send it again, and the job's record says it was never queued
    assert answer.status == 503
    assert answer.body["error"]["code"] == "store_unavailable"
    jobs = _items(faulty_gateway, "JobsTable")
    assert [(j["status"], j["error"]) for j in jobs] == [("failed", "the job could not be queued")]
    got = faulty_gateway.call("route", _get_event(str(jobs[0]["job_id"])))
    assert (got.status, got.body["status"]) == (200, "failed")


def _get_event(job_id: str) -> dict[str, Any]:
    event = api_event("GET", f"/v1/jobs/{job_id}", resource="/v1/jobs/{job_id}")
    event["pathParameters"] = {"job_id": job_id}
    return event


@pytest.mark.parametrize("fault", ["throttle", "internal"])
def test_a_secret_that_cannot_be_read_for_now_is_a_503_not_a_configuration_error(
    faulty_gateway: FaultyGateway, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    # Given a new instance (nothing cached) and Secrets Manager throttling it, or failing on its side, once
    faulty_gateway.injector.fail("secretsmanager", "GetSecretValue", fault, times=1)
    # When a request needs the provider keys
    answer = faulty_gateway.call("route", load_event("route"))
    # Then the client is told to send it again: the deployment is not at fault, and no key is named or shown
    assert answer.status == 503
    assert answer.body["error"]["code"] == "store_unavailable"
    assert "could not be read now" in answer.body["error"]["message"]
    # and the same request, sent again, is answered
    assert faulty_gateway.call("route", load_event("route")).status == 200
