"""Budget leases through the real handlers: an instance writes the ledger once per slice, not once per request; what it
spent shows once it gives the slice back; every paid call tells the provider the bound its reservation assumed; a bill
beyond it is charged and reported."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from gateway.core.catalogue import cost_usd
from gateway.providers.base import GenerationRequest
from gateway.resilience.spend import worst_case_cost
from tests.clocks import ManualClock
from tests.conftest import Gateway, load_event
from tests.observability.capture import Capture
from tests.resilience.conftest import FaultyGateway

_prompts = itertools.count()


def _route(gateway: Gateway) -> dict[str, Any]:
    prompt = f"Say hello, request {next(_prompts)}"
    answer = gateway.call("route", load_event("route", prompt=prompt))
    assert answer.status == 200, answer.body
    body: dict[str, Any] = {**answer.body, "prompt": prompt}
    return body


def _spend(gateway: Gateway) -> dict[str, float]:
    spend: dict[str, float] = gateway.call("status", load_event("status")).body["spend"]
    return spend


@pytest.fixture
def capped(gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> Gateway:
    monkeypatch.setenv("AI_DAILY_COST_LIMIT", "5")
    monkeypatch.setenv("SLM_MODE", "local")  # Gemini answers, and is paid for
    return gateway


def test_an_instance_writes_the_ledger_once_for_many_requests(
    faulty_gateway: FaultyGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a daily cap of 5 USD, far above what a few calls cost
    monkeypatch.setenv("AI_DAILY_COST_LIMIT", "5")
    monkeypatch.setenv("SLM_MODE", "local")
    # When one instance answers 10 requests
    for _ in range(10):
        _route(faulty_gateway)
    # Then it wrote the ledger once (one slice leased), not once or twice per request
    assert faulty_gateway.injector.count("units:spend-units#") == 1
    assert faulty_gateway.injector.count("calls:TransactWriteItems") == 0


def test_what_a_lease_spent_shows_once_it_is_given_back(capped: Gateway, manual_clock: ManualClock) -> None:
    # Given an instance that answered 3 requests from one slice of the cap
    costs = [float(_route(capped)["usage"]["cost_usd"]) for _ in range(3)]
    # Then the ledger holds the slice (committed) but has not been told what it spent yet
    held = _spend(capped)
    assert held["spent_today_usd"] == 0
    assert held["committed_usd"] >= sum(costs)
    # When the lease is SPEND_LEASE_SECONDS old and the instance answers again
    manual_clock.advance(61)
    costs.append(float(_route(capped)["usage"]["cost_usd"]))
    # Then the old slice was given back with what it spent, and a new one taken
    spend = _spend(capped)
    assert spend["spent_today_usd"] == pytest.approx(sum(costs[:3]))
    assert spend["committed_usd"] >= sum(costs)
    assert spend["committed_usd"] < held["committed_usd"] + sum(costs)  # the unspent part came back


def test_every_paid_call_tells_the_provider_the_bound_its_reservation_assumed(capped: Gateway) -> None:
    _route(capped)
    (call,) = [c for c in capped.emulator.calls_for("gemini") if ":generateContent" in c.path]
    config = call.body["generationConfig"]
    assert config["maxOutputTokens"] == 256  # events/route.json's max_output_tokens
    assert list(config["thinkingConfig"].values()) == [0]  # shared/models.json: gemini-2.5-flash thinks 0


def test_a_bill_beyond_the_reservation_is_charged_and_reported(
    capped: Gateway, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given Gemini billing 4 times the output it was allowed (thinking it was told not to do)
    monkeypatch.setenv("SPEND_LEASE_SECONDS", "0")
    capped.emulator.fail("gemini", "overbill", tokens=4 * 256)
    with Capture(capsys).active() as capture:
        answer = _route(capped)
        output = capture.read()
    # Then the answer's cost is what was billed, and the day's spend holds all of it
    billed = cost_usd("gemini-2.5-flash", answer["usage"]["input_tokens"], 4 * 256) or 0.0
    assert answer["usage"]["cost_usd"] == pytest.approx(billed)
    spend = _spend(capped)
    assert spend["spent_today_usd"] == pytest.approx(billed)
    assert spend["committed_usd"] == pytest.approx(billed)
    # And the overrun is reported: a metric of the excess and a warning naming the model
    (excess,) = output.values("SpendOverrunUsd", service="ai-gateway")
    assert excess == pytest.approx(billed - _reserved(answer), rel=1e-6)
    (warning,) = output.messages("a provider billed more than the call's worst case")
    assert (warning["model"], warning["billed_usd"]) == ("gemini-2.5-flash", pytest.approx(billed))


def _reserved(answer: dict[str, Any]) -> float:
    """The worst case the route endpoint reserved for this answer's call (its prompt, system framing and bound)."""
    system = "You are a helpful, precise assistant. Answer in English."
    return worst_case_cost("gemini-2.5-flash", GenerationRequest(str(answer["prompt"]), system, 256))
