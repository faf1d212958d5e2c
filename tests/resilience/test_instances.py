"""The promises that span instances, with instances as they are in Lambda: separate interpreters, each running the
real route handler, sharing one moto server behind the AWS fault injector (conflicts, throttling, serialised items)
and the provider emulator. A short version of `bench/spend_and_breakers.py`.

Time is never waited for: a cool-down "passes" when the test moves the breaker's `open_until` into the past.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import boto3
import pytest

from dev.emulator import ProviderEmulator
from dev.faulty_stack import FaultyStack
from dev.instances import Instances, Plan, Result, run_instances
from gateway.core.catalogue import cost_usd
from gateway.providers.base import GenerationRequest
from gateway.resilience.spend import worst_case_cost
from gateway.stores.breakers import breaker_key

INSTANCES = 4
MAX_OUTPUT = 200
_prompts = itertools.count()


@pytest.fixture
def stack(faulty_aws: FaultyStack, emulator: ProviderEmulator) -> Iterator[FaultyStack]:
    faulty_aws.clear()
    emulator.reset()
    yield faulty_aws
    faulty_aws.clear()
    emulator.reset()


def _bodies(n: int) -> list[dict[str, Any]]:
    prompts = [f"Say hello in one sentence, request {next(_prompts)}" for _ in range(n)]
    return [{"user_id": "u", "prompt": prompt, "max_output_tokens": MAX_OUTPUT} for prompt in prompts]


def _gemini_worst_case() -> float:
    """A route call's worst case at Gemini (the prompt and the system framing, as the route endpoint sends them)."""
    system = "You are a helpful, precise assistant. Answer in English."
    request = GenerationRequest("Say hello in one sentence, request 1000", system, max_output_tokens=MAX_OUTPUT)
    return worst_case_cost("gemini-2.5-flash", request)


def _spent(results: list[Result]) -> float:
    """What the providers billed, by the answers' own usage (every call here answers or is refused before a call)."""
    return sum(r.cost_usd for r in results)


def _capped(stack: FaultyStack, cap: float, **extra: str) -> dict[str, str]:
    return {
        **stack.environment(),
        "SLM_MODE": "local",  # Gemini, then Hugging Face: both priced, both under the cap
        "AI_DAILY_COST_LIMIT": f"{cap:.10f}",
        "RETRY_MAX_ATTEMPTS": "1",
        **extra,
    }


def _table(stack: FaultyStack) -> Any:
    client = boto3.resource(
        "dynamodb", endpoint_url=stack.injector.upstream, region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )  # fmt: skip
    return client.Table(stack.resources.state_table)


def test_separate_instances_spend_the_cap_and_never_overshoot_it(
    stack: FaultyStack, emulator: ProviderEmulator
) -> None:
    # Given answers that bill all the output they are allowed (each costs nearly its worst case), a cap of 8 Gemini
    # worst cases, and an instance that answered one request and then sits idle with the slice it leased
    emulator.fail("*", "overbill", tokens=MAX_OUTPUT)
    worst = _gemini_worst_case()
    cap = 8 * worst
    with Instances(_capped(stack, cap), INSTANCES) as instances:
        results = instances.run([Plan("route", "/v1/route", _bodies(1))])
        # When the 3 others ask for 36 answers at once
        results += instances.run([Plan("route", "/v1/route", []), *[Plan("route", "/v1/route", _bodies(12))] * 3])
        # Then what was billed stays under the cap (at most one reservation over it, whatever the interleaving)
        spent = _spent(results)
        assert spent <= cap + worst
        # And the cap was spent, not refused early: what is left unspent is less than the slices the instances hold
        # (the idle one's included: a slice is at most 1/16 of the room left, and never more than the call needs
        # near the cap)
        assert spent >= cap - INSTANCES * worst, f"{spent / worst:.2f} of 8 worst cases spent"
    # And every refusal is the cap's (no conflict or ledger error read as one), never a 5xx
    assert {r.status for r in results} <= {200, 429}
    refused = [a for r in results for a in r.attempts if a["outcome"] != "ok"]
    assert {a["outcome"] for a in refused} <= {"budget_exceeded"}


def test_conflicts_and_throttling_on_the_ledger_are_not_a_cap(stack: FaultyStack) -> None:
    # Given a generous cap, and a ledger that throttles (10 write units a second on its item), holds each
    # transaction 50 ms (a conflict for any write meeting it) and answers its next writes with conflicts
    worst = _gemini_worst_case()
    cap = 100 * worst
    stack.injector.set_capacity(stack.injector.capacity.__class__(write_units_per_s=10, transaction_hold_s=0.05))
    stack.injector.fail("dynamodb", "*", "conflict", key_prefix="spend-units#", times=2)
    # When 4 instances ask for 24 answers at once
    results = run_instances(_capped(stack, cap), [Plan("route", "/v1/route", _bodies(6))] * INSTANCES)
    # Then every one is answered by Gemini: a conflict is retried, and no request is refused as if the cap were reached
    assert [r.status for r in results] == [200] * len(results)
    assert {r.provider for r in results} == {"gemini"}
    assert _spent(results) <= cap
    # And the ledger was written far less than once per request (leases, not a write per call)
    writes = stack.injector.count("units:spend-units#")
    assert writes <= 2 * INSTANCES + 3, f"{writes} ledger writes for {len(results)} requests"


def test_providers_that_bill_more_than_asked_do_not_overshoot_the_cap(
    stack: FaultyStack, emulator: ProviderEmulator
) -> None:
    # Given providers that bill 1.5 times the output they were allowed, and a cap of 16 Gemini worst cases
    emulator.fail("*", "overbill", tokens=int(1.5 * MAX_OUTPUT))
    worst = _gemini_worst_case()
    cap = 16 * worst
    # When 4 instances ask for 40 answers at once
    results = run_instances(_capped(stack, cap), [Plan("route", "/v1/route", _bodies(10))] * INSTANCES)
    # Then the excess is charged (the answers report what was billed) but the cap holds within one reservation:
    # once a model is seen to overrun, every instance prices it so
    assert _spent(results) <= cap + worst, f"overshoot {(_spent(results) - cap) / worst:.2f} worst cases"
    billed = [r for r in results if r.provider == "gemini"]
    assert billed
    assert all(r.cost_usd > (cost_usd("gemini-2.5-flash", 0, MAX_OUTPUT) or 0) for r in billed)


def _breaker(stack: FaultyStack) -> dict[str, Any]:
    item: dict[str, Any] = _table(stack).get_item(Key={"pk": breaker_key("slm", "slm")}, ConsistentRead=True)["Item"]
    return item


def _cool_down_passes(stack: FaultyStack) -> None:
    """The test's clock: the breaker's cool-down is over because the test says so, not because time went by."""
    _table(stack).update_item(
        Key={"pk": breaker_key("slm", "slm")},
        UpdateExpression="SET open_until = :past",
        ExpressionAttributeValues={":past": Decimal(1)},
    )


def test_the_breaker_opens_once_probes_once_and_only_the_probe_closes_it(
    stack: FaultyStack, emulator: ProviderEmulator
) -> None:
    env = {
        **stack.environment(),
        "RETRY_MAX_ATTEMPTS": "1",
        "BREAKER_FAILURE_THRESHOLD": "24",
        "BREAKER_MIN_REQUESTS": "1000",
        "BREAKER_COOLDOWN_SECONDS": "600",
        # Each request reads the circuit (no 1 s reuse), so that every count below is exact: an instance may
        # otherwise act for up to a second on what it read before another one's write.
        "BREAKER_CACHE_MS": "0",
    }
    with Instances(env, INSTANCES) as instances:
        # Given the sLM (first in the chain) failing with 503s
        emulator.fail("slm", "status", status=503)
        # When 4 instances send 12 requests each at once
        results = instances.run([Plan("route", "/v1/route", _bodies(12))] * INSTANCES)
        # Then the circuit opened exactly once, and Gemini answered everything
        item = _breaker(stack)
        assert (item["state"], item["opens"]) == ("open", 1)
        assert {r.provider for r in results} == {"gemini"}
        # And each instance wrote its failures at most once per flush interval (the first at once), however many
        # it saw: a bounded number of writes per instance per second, not one per failure
        breaker_writes = stack.injector.count("units:breaker#slm")
        failures = len(emulator.calls_for("slm"))
        busy_s = [max(r.started_s + r.latency_s for r in results if r.instance == i) for i in range(INSTANCES)]
        bound = sum(2 + s / 0.5 for s in busy_s) + 2  # per instance: its first and last writes, one per 0.5 s between
        assert failures >= 24
        assert breaker_writes <= bound, f"{breaker_writes} breaker writes, bound {bound:.0f}"
        assert breaker_writes < failures, f"{breaker_writes} breaker writes for {failures} failures"

        # When the cool-down has passed and 4 instances ask at once while the sLM still fails
        _cool_down_passes(stack)
        emulator.clear_calls()
        instances.run([Plan("route", "/v1/route", _bodies(3))] * INSTANCES)
        # Then exactly one request probed it, its failure opened it again, and nothing closed it
        item = _breaker(stack)
        assert (item["state"], item["probes"], item.get("closes", 0)) == ("open", 1, 0)
        assert len(emulator.calls_for("slm")) == 1

        # When the sLM recovers and the cool-down passes again
        emulator.reset()
        _cool_down_passes(stack)
        results = instances.run([Plan("route", "/v1/route", _bodies(3))] * INSTANCES)
        # Then one more probe took the lease and closed it, once
        item = _breaker(stack)
        assert (item["state"], item["probes"], item["closes"]) == ("closed", 2, 1)
        assert any(r.provider == "slm" for r in results)
