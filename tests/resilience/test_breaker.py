"""The shared circuit breaker through the real handlers: open, skip, probe, close, reset."""

from __future__ import annotations

import itertools
import json
import time

import pytest

from dev.lambda_runtime import api_event
from tests.conftest import Gateway, load_event


@pytest.fixture
def breaker_env(gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> Gateway:
    monkeypatch.setenv("BREAKER_FAILURE_THRESHOLD", "2")
    monkeypatch.setenv("BREAKER_COOLDOWN_SECONDS", "1")
    monkeypatch.setenv("BREAKER_CACHE_MS", "0")
    return gateway


_prompts = itertools.count()


def _route_event() -> dict[str, object]:
    """A route request never asked before, so no answer comes from the response cache."""
    return load_event("route", prompt=f"Say hello, request {next(_prompts)}")


def _route(gateway: Gateway) -> list[tuple[str, str]]:
    answer = gateway.call("route", _route_event())
    assert answer.status == 200
    return [(a["provider"], a["outcome"]) for a in answer.body["attempts"]]


def _circuit(gateway: Gateway, provider: str) -> dict[str, object]:
    providers = gateway.call("status", load_event("status")).body["providers"]
    circuit: dict[str, object] = next(p for p in providers if p["name"] == provider)["circuit"]
    return circuit


def test_a_failing_provider_is_skipped_once_its_circuit_opens_and_probed_after_the_cool_down(
    breaker_env: Gateway,
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
    time.sleep(1.05)
    assert _circuit(gateway, "slm")["state"] == "half_open"
    # Then one request probes it, succeeds, and closes the circuit for everyone
    assert _route(gateway) == [("slm", "ok")]
    assert _circuit(gateway, "slm")["state"] == "closed"


def test_a_failed_probe_opens_the_circuit_again(breaker_env: Gateway) -> None:
    gateway = breaker_env
    gateway.emulator.fail("slm", "status", status=500)
    _route(gateway)
    _route(gateway)
    time.sleep(1.05)
    # The probe fails: not retried, and the circuit is open for another cool-down
    assert _route(gateway)[0] == ("slm", "server_error")
    assert _circuit(gateway, "slm")["state"] == "open"
    assert _route(gateway)[0] == ("slm", "circuit_open")


def test_a_retry_after_longer_than_the_cool_down_keeps_the_circuit_open(breaker_env: Gateway) -> None:
    gateway = breaker_env
    # Given the sLM rate limited for 5 s, longer than the 1 s cool-down
    gateway.emulator.fail("slm", "status", status=429, retry_after="5")
    _route(gateway)
    _route(gateway)
    circuit = _circuit(gateway, "slm")
    assert circuit["state"] == "open"
    assert isinstance(circuit["open_until"], float)
    assert circuit["open_until"] >= time.time() + 3.5
    # When the cool-down alone would have passed, it is still open
    time.sleep(1.05)
    assert _route(gateway)[0] == ("slm", "circuit_open")


def test_failures_that_say_nothing_of_health_do_not_open_the_circuit(breaker_env: Gateway) -> None:
    gateway = breaker_env
    gateway.emulator.fail("slm", "status", status=401)
    for _ in range(3):
        assert _route(gateway)[0] == ("slm", "auth_error")
    assert _circuit(gateway, "slm")["state"] == "closed"


def test_the_scheduled_probe_feeds_the_same_circuits(breaker_env: Gateway) -> None:
    gateway = breaker_env
    # Given Hugging Face down when the schedule probes twice
    gateway.emulator.fail("huggingface", "status", status=503)
    gateway.invoke("status", load_event("schedule_status"))
    gateway.invoke("status", load_event("schedule_status"))
    # Then its circuit is open for the requests too
    assert _circuit(gateway, "huggingface")["state"] == "open"
    # And when it recovers, a successful probe closes it
    gateway.emulator.reset()
    gateway.invoke("status", load_event("schedule_status"))
    assert _circuit(gateway, "huggingface")["state"] == "closed"


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
