"""The shared circuit breaker through the real handlers: open, skip, probe, close, reset.

Time is the test's own (`manual_clock`): a cool-down passes when the test says so, never because the machine is slow.
"""

from __future__ import annotations

import itertools
import json

import pytest

from dev.lambda_runtime import api_event
from tests.clocks import ManualClock
from tests.conftest import Gateway, load_event

COOLDOWN_S = 30


@pytest.fixture
def breaker_env(gateway: Gateway, monkeypatch: pytest.MonkeyPatch, manual_clock: ManualClock) -> Gateway:
    monkeypatch.setenv("BREAKER_FAILURE_THRESHOLD", "2")
    monkeypatch.setenv("BREAKER_COOLDOWN_SECONDS", str(COOLDOWN_S))
    monkeypatch.setenv("BREAKER_CACHE_MS", "0")
    monkeypatch.setenv("BREAKER_FLUSH_MS", "0")  # each instance writes every failure at once (one instance here)
    return gateway


_prompts = itertools.count()


def _route_event() -> dict[str, object]:
    """A route request never asked before, so no answer comes from the response cache."""
    return load_event("route", prompt=f"Say hello, request {next(_prompts)}")


def _route(gateway: Gateway) -> list[tuple[str, str]]:
    answer = gateway.call("route", _route_event())
    assert answer.status == 200
    return [(a["provider"], a["outcome"]) for a in answer.body["attempts"]]


def _error_event() -> dict[str, object]:
    """An error never analysed before, so no answer comes from the analysis cache (Gemini is first in its chain)."""
    n = next(_prompts)
    error = {"message": "KeyError: 'user_id'", "type": "KeyError", "code": f"data['user_id']  # call {n}"}
    return load_event("handle_error", error=error)


def _circuit(gateway: Gateway, provider: str) -> dict[str, object]:
    providers = gateway.call("status", load_event("status")).body["providers"]
    circuit: dict[str, object] = next(p for p in providers if p["name"] == provider)["circuit"]
    return circuit


def test_a_failing_provider_is_skipped_once_its_circuit_opens_and_probed_after_the_cool_down(
    breaker_env: Gateway, manual_clock: ManualClock
) -> None:
    gateway = breaker_env
    # Given the sLM failing with 503s
    gateway.emulator.fail("slm", "status", status=503)
    # When two requests fail on it (the threshold)
    assert _route(gateway)[0] == ("slm", "server_error")
    assert _route(gateway)[0] == ("slm", "server_error")
    # Then its circuit is open, the next request skips it without a call, and Gemini answers
    assert _circuit(gateway, "slm")["state"] == "open"
    calls_before = len(gateway.emulator.calls_for("slm"))
    answer = gateway.call("route", _route_event())
    first = answer.body["attempts"][0]
    assert (first["provider"], first["outcome"], first["latency_ms"]) == ("slm", "circuit_open", 0.0)
    assert answer.body["provider"] == "gemini"
    assert len(gateway.emulator.calls_for("slm")) == calls_before
    # When the sLM recovers and the cool-down passes
    gateway.emulator.reset()
    manual_clock.advance(COOLDOWN_S + 1)
    assert _circuit(gateway, "slm")["state"] == "half_open"
    # Then one request probes it, succeeds, and closes the circuit for everyone
    assert _route(gateway) == [("slm", "ok")]
    assert _circuit(gateway, "slm")["state"] == "closed"


def test_a_failed_probe_opens_the_circuit_again(breaker_env: Gateway, manual_clock: ManualClock) -> None:
    gateway = breaker_env
    gateway.emulator.fail("slm", "status", status=500)
    _route(gateway)
    _route(gateway)
    manual_clock.advance(COOLDOWN_S + 1)
    # The probe fails: not retried, and the circuit is open for another cool-down
    assert _route(gateway)[0] == ("slm", "server_error")
    assert _circuit(gateway, "slm")["state"] == "open"
    assert _route(gateway)[0] == ("slm", "circuit_open")


def test_a_retry_after_longer_than_the_cool_down_keeps_the_circuit_open(
    breaker_env: Gateway, manual_clock: ManualClock
) -> None:
    gateway = breaker_env
    # Given the sLM rate limited for 120 s, longer than the 30 s cool-down
    gateway.emulator.fail("slm", "status", status=429, retry_after="120")
    _route(gateway)
    _route(gateway)
    circuit = _circuit(gateway, "slm")
    assert circuit["state"] == "open"
    assert isinstance(circuit["open_until"], float)
    assert circuit["open_until"] >= manual_clock.wall() + 119
    # When the cool-down alone would have passed, it is still open
    manual_clock.advance(COOLDOWN_S + 1)
    assert _route(gateway)[0] == ("slm", "circuit_open")
    # And once the Retry-After has passed too, a probe is let through
    gateway.emulator.reset()
    manual_clock.advance(120)
    assert _route(gateway) == [("slm", "ok")]


def test_failures_that_say_nothing_of_health_do_not_open_the_circuit(breaker_env: Gateway) -> None:
    gateway = breaker_env
    gateway.emulator.fail("slm", "status", status=401)
    for _ in range(3):
        assert _route(gateway)[0] == ("slm", "auth_error")
    assert _circuit(gateway, "slm")["state"] == "closed"


def test_the_scheduled_probe_feeds_the_same_circuits(breaker_env: Gateway, manual_clock: ManualClock) -> None:
    gateway = breaker_env
    # Given Hugging Face down when the schedule probes twice
    gateway.emulator.fail("huggingface", "status", status=503)
    gateway.invoke("status", load_event("schedule_status"))
    gateway.invoke("status", load_event("schedule_status"))
    # Then its circuit is open for the requests too
    assert _circuit(gateway, "huggingface")["state"] == "open"
    # When it recovers, a probe before the cool-down has passed does not close it
    gateway.emulator.reset()
    gateway.invoke("status", load_event("schedule_status"))
    assert _circuit(gateway, "huggingface")["state"] == "open"
    # And once it has, the schedule's probe takes the half-open lease, generates, and closes it
    manual_clock.advance(COOLDOWN_S + 1)
    gateway.invoke("status", load_event("schedule_status"))
    assert _circuit(gateway, "huggingface")["state"] == "closed"


def test_a_probe_whose_health_check_passes_while_generation_fails_does_not_close_the_circuit(
    breaker_env: Gateway, manual_clock: ManualClock
) -> None:
    gateway = breaker_env
    # Given Gemini answering its health check (models.get) but every generation in a shape that cannot be read
    gateway.emulator.fail("gemini", "raw", body='{"candidates": "not a list"}')
    for _ in range(2):  # Gemini is first on /v1/handle-error; two malformed answers open its circuit
        answer = gateway.call("handle_error", _error_event())
        assert answer.body["attempts"][0]["outcome"] == "malformed_response"
    assert _circuit(gateway, "gemini")["state"] == "open"
    # When the cool-down has passed and the schedule probes
    manual_clock.advance(COOLDOWN_S + 1)
    generations_before = sum(":generateContent" in c.path for c in gateway.emulator.calls_for("gemini"))
    gateway.invoke("status", load_event("schedule_status"))
    # Then its probe was a generation, which failed, so the circuit is open for another cool-down
    generations = sum(":generateContent" in c.path for c in gateway.emulator.calls_for("gemini"))
    assert generations == generations_before + 1
    assert _circuit(gateway, "gemini")["state"] == "open"
    # And the requests that follow skip Gemini without a call
    for _ in range(3):
        answer = gateway.call("handle_error", _error_event())
        assert answer.body["attempts"][0]["outcome"] == "circuit_open"
    assert sum(":generateContent" in c.path for c in gateway.emulator.calls_for("gemini")) == generations


def test_an_admin_resets_a_circuit(breaker_env: Gateway) -> None:
    gateway = breaker_env
    gateway.emulator.fail("slm", "status", status=503)
    _route(gateway)
    _route(gateway)
    assert _circuit(gateway, "slm")["state"] == "open"
    gateway.emulator.reset()
    # When an admin resets it (IAM-authorised in API Gateway)
    reset = gateway.call("status", api_event("POST", "/v1/admin/circuits/reset", {"provider": "slm"}))
    # Then it is closed at once for every instance
    assert reset.status == 200
    assert reset.body["state"] == "closed"
    assert _route(gateway) == [("slm", "ok")]


def test_resetting_an_unknown_provider_is_a_422(gateway: Gateway) -> None:
    answer = gateway.call("status", api_event("POST", "/v1/admin/circuits/reset", {"provider": "openai"}))
    assert answer.status == 422
    assert "unknown provider 'openai'" in answer.body["error"]["message"]
    assert "openai" not in json.dumps(answer.body["error"].get("details", ""))


def test_the_schedules_generation_probe_is_paid_for_under_the_spend_cap(
    breaker_env: Gateway, manual_clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    gateway = breaker_env
    monkeypatch.setenv("AI_DAILY_COST_LIMIT", "5")
    monkeypatch.setenv("SPEND_LEASE_SECONDS", "0")  # each run gives its lease back: the ledger is exact at once
    # Given Hugging Face's circuit opened by the schedule's probes, then its recovery and the cool-down passing
    gateway.emulator.fail("huggingface", "status", status=503)
    gateway.invoke("status", load_event("schedule_status"))
    gateway.invoke("status", load_event("schedule_status"))
    gateway.emulator.reset()
    manual_clock.advance(COOLDOWN_S + 1)
    # When the schedule probes it with a generation, which closes it
    gateway.invoke("status", load_event("schedule_status"))
    assert _circuit(gateway, "huggingface")["state"] == "closed"
    # Then that generation was reserved and settled under the cap like any paid call
    spend = gateway.call("status", load_event("status")).body["spend"]
    assert spend["spent_today_usd"] > 0
    assert spend["committed_usd"] == pytest.approx(spend["spent_today_usd"])
