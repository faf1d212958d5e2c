"""The AWS round trips of one route request, as DynamoDB sees them: the fault injector counts every call on the wire.

On a cache miss, one round trip before the provider call (the cache read; the circuits, when due, read at the same
time) and one after it (the cache entry and the interaction in one BatchWriteItem). A request whose answer cannot be
cached makes no cache call.
"""

from __future__ import annotations

import itertools

import boto3
import pytest

from tests.clocks import ManualClock
from tests.conftest import Answer, load_event
from tests.resilience.conftest import FaultyGateway

_prompts = itertools.count()
DYNAMODB_CALLS = ("GetItem", "BatchGetItem", "PutItem", "UpdateItem", "BatchWriteItem", "Query", "TransactWriteItems")


def _route(gateway: FaultyGateway, prompt: str, **fields: object) -> Answer:
    answer = gateway.call("route", load_event("route", prompt=prompt, **fields))
    assert answer.status == 200
    return answer


def _calls(gateway: FaultyGateway) -> dict[str, int]:
    """DynamoDB calls on the wire since the last reset, by operation (those made at least once)."""
    stats = gateway.injector.stats()
    return {op: stats[f"calls:{op}"] for op in DYNAMODB_CALLS if stats.get(f"calls:{op}")}


def _count(gateway: FaultyGateway, logical_id: str) -> int:
    resource = boto3.resource(
        "dynamodb", endpoint_url=gateway.injector.upstream, region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )  # fmt: skip
    return len(resource.Table(gateway.resources.names[logical_id]).scan()["Items"])


def test_a_miss_reads_once_before_the_provider_and_writes_once_after(faulty_gateway: FaultyGateway) -> None:
    # Given a warm instance (the circuits read within the last second)
    _route(faulty_gateway, f"Say hello, request {next(_prompts)}")
    faulty_gateway.injector.reset()
    # When a new prompt is routed
    answer = _route(faulty_gateway, f"Say hello, request {next(_prompts)}")
    # Then DynamoDB saw one cache read and one batch holding the cache entry and the interaction, nothing else
    assert answer.body["cached"] is False
    assert _calls(faulty_gateway) == {"GetItem": 1, "BatchWriteItem": 1}
    assert (_count(faulty_gateway, "CacheTable"), _count(faulty_gateway, "InteractionsTable")) == (2, 2)


def test_circuits_due_for_a_read_are_read_at_the_same_time_as_the_cache(
    faulty_gateway: FaultyGateway, manual_clock: ManualClock
) -> None:
    # Given a warm instance whose circuits were read over a second ago (their cache has run out), and DynamoDB
    # taking 200 ms to answer either read
    _route(faulty_gateway, f"Say hello, request {next(_prompts)}")
    manual_clock.advance(2)
    faulty_gateway.injector.reset()
    _slow_reads(faulty_gateway)
    # When a prompt is routed
    _route(faulty_gateway, f"Say hello, request {next(_prompts)}")
    # Then the circuits and the cache entry were asked for together: one read arrived while the other was being
    # answered (one round trip, not two in a row), and the chain found the circuits fresh (no second read)
    assert _overlapped(faulty_gateway) >= 1
    assert _calls(faulty_gateway) == {"GetItem": 1, "BatchGetItem": 1, "BatchWriteItem": 1}


def test_the_small_models_probe_verdict_is_read_again_at_the_same_time_as_the_cache(
    faulty_gateway: FaultyGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a warm instance whose sLM probe verdict is due to be read again (PROBE_CACHE_S run out), and slow reads
    from gateway.routing import slm_health

    _route(faulty_gateway, f"Say hello, request {next(_prompts)}")
    monkeypatch.setattr(slm_health, "PROBE_CACHE_S", 0.0)
    faulty_gateway.injector.reset()
    _slow_reads(faulty_gateway)
    # When a prompt is routed
    _route(faulty_gateway, f"Say hello, request {next(_prompts)}")
    # Then the verdict was read with the cache entry, not before it
    assert _overlapped(faulty_gateway) >= 1
    assert _calls(faulty_gateway) == {"GetItem": 1, "BatchGetItem": 1, "BatchWriteItem": 1}


def _slow_reads(gateway: FaultyGateway) -> None:
    for operation in ("GetItem", "BatchGetItem"):
        gateway.injector.fail("dynamodb", operation, delay_s=0.2)


def _overlapped(gateway: FaultyGateway) -> int:
    stats = gateway.injector.stats()
    return stats.get("overlapped:GetItem", 0) + stats.get("overlapped:BatchGetItem", 0)


def test_a_hit_reads_once_and_writes_only_its_interaction(faulty_gateway: FaultyGateway) -> None:
    # Given an answer in the cache
    prompt = f"Say hello, request {next(_prompts)}"
    _route(faulty_gateway, prompt)
    faulty_gateway.injector.reset()
    # When the same prompt comes again
    answer = _route(faulty_gateway, prompt)
    # Then one read answered it, and its interaction is the one write
    assert answer.body["cached"] is True
    assert _calls(faulty_gateway) == {"GetItem": 1, "PutItem": 1}


@pytest.mark.parametrize(
    ("fields", "headers"),
    [({"temperature": 0.7}, {}), ({"temperature": 0}, {"Cache-Control": "no-store"})],
    ids=["temperature above zero", "Cache-Control: no-store"],
)
def test_an_answer_that_cannot_be_cached_makes_no_cache_call(
    faulty_gateway: FaultyGateway, fields: dict[str, object], headers: dict[str, str]
) -> None:
    # Given a warm instance
    _route(faulty_gateway, f"Say hello, request {next(_prompts)}")
    faulty_gateway.injector.reset()
    # When a request whose answer cannot be cached is routed, twice
    prompt = f"Tell me a story, request {next(_prompts)}"
    for _ in range(2):
        event = load_event("route", prompt=prompt, **fields)
        event["headers"].update(headers)
        answer = faulty_gateway.call("route", event)
        # Then the provider answers each time, and only the interaction is written: no cache read, no cache write
        assert (answer.status, answer.body["cached"]) == (200, False)
    assert _calls(faulty_gateway) == {"PutItem": 2}
    assert len(faulty_gateway.emulator.calls) == 3


def test_a_sampled_answer_reads_what_is_due_in_one_round_trip_and_no_cache(
    faulty_gateway: FaultyGateway, monkeypatch: pytest.MonkeyPatch, manual_clock: ManualClock
) -> None:
    # Given a warm instance whose sLM verdict and circuits are both due to be read again, and slow reads
    from gateway.routing import slm_health

    _route(faulty_gateway, f"Say hello, request {next(_prompts)}")
    monkeypatch.setattr(slm_health, "PROBE_CACHE_S", 0.0)
    manual_clock.advance(2)
    faulty_gateway.injector.reset()
    _slow_reads(faulty_gateway)
    # When a sampled answer is asked for (temperature above zero: no cache call)
    _route(faulty_gateway, f"Tell me a story, request {next(_prompts)}", temperature=0.7)
    # Then the verdict and the circuits were read together, and only the interaction was written
    assert _overlapped(faulty_gateway) >= 1
    assert _calls(faulty_gateway) == {"BatchGetItem": 2, "PutItem": 1}
