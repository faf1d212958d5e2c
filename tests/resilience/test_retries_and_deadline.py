"""The gateway's one retry loop and the request deadline, through the real handlers."""

from __future__ import annotations

import itertools
import json
import time

import pytest

from dev.lambda_runtime import LocalLambdaContext
from tests.conftest import Gateway, load_event

_prompts = itertools.count()


def _route_event() -> dict[str, object]:
    return load_event("route", prompt=f"Say hello, request {next(_prompts)}")


@pytest.fixture
def retrying(gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> Gateway:
    monkeypatch.setenv("RETRY_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("RETRY_BASE_DELAY_MS", "50")
    return gateway


@pytest.mark.parametrize("status", [500, 503, 429])
def test_a_transient_failure_is_retried_at_the_same_provider(retrying: Gateway, status: int) -> None:
    # Given the sLM failing once
    retrying.emulator.fail("slm", "status", status=status, times=1)
    # When a prompt is routed
    answer = retrying.call("route", _route_event())
    # Then the sLM is asked again and answers: a retry, not a fallback
    outcomes = [(a["provider"], a["outcome"]) for a in answer.body["attempts"]]
    assert outcomes[1] == ("slm", "ok")
    assert outcomes[0][0] == "slm"
    assert answer.body["fallback_used"] is False


@pytest.mark.parametrize(("status", "outcome"), [(401, "auth_error"), (400, "invalid_request")])
def test_auth_and_invalid_request_errors_fall_over_without_a_retry(
    retrying: Gateway, status: int, outcome: str
) -> None:
    retrying.emulator.fail("slm", "status", status=status)
    answer = retrying.call("route", _route_event())
    assert [(a["provider"], a["outcome"]) for a in answer.body["attempts"]] == [("slm", outcome), ("gemini", "ok")]
    assert len(retrying.emulator.calls_for("slm")) == 1


def test_a_short_retry_after_is_honoured(retrying: Gateway) -> None:
    retrying.emulator.fail("slm", "status", status=429, retry_after="1", times=1)
    started = time.monotonic()
    answer = retrying.call("route", _route_event())
    assert [a["outcome"] for a in answer.body["attempts"]] == ["rate_limited", "ok"]
    assert answer.body["provider"] == "slm"
    assert time.monotonic() - started >= 1.0


def test_a_retry_after_that_does_not_fit_skips_the_provider_at_once(retrying: Gateway) -> None:
    retrying.emulator.fail("slm", "status", status=429, retry_after="60")
    started = time.monotonic()
    answer = retrying.call("route", _route_event())
    assert time.monotonic() - started < 10  # far from the 60 s it asked for
    first = answer.body["attempts"][0]
    assert first["outcome"] == "rate_limited"
    assert "Retry-After 60 s does not fit" in first["error"]
    assert answer.body["provider"] == "gemini"
    assert len(retrying.emulator.calls_for("slm")) == 1


def test_a_hanging_provider_never_makes_a_request_outlive_its_deadline(
    retrying: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given every provider hanging for 10 s and a Lambda with 4 s left (the deadline: 3.5 s)
    monkeypatch.setenv("SLM_TIMEOUT_MS", "20000")
    monkeypatch.setenv("PROVIDER_TIMEOUT_MS", "20000")
    retrying.emulator.fail("*", "delay", delay_s=10)
    context = LocalLambdaContext(function_name="route", timeout_s=4.0)
    # When a prompt is routed
    started = time.monotonic()
    raw = retrying.invoke("route", _route_event(), context)
    elapsed = time.monotonic() - started
    # Then the client gets a 504 with the attempts so far, when the Lambda's time is up at the latest
    # (and 6 s before the provider would have answered). The 0.5 s beyond the Lambda's 4 s absorbs a
    # loaded CI machine's scheduling delays; a deadline not kept would show as 10 s.
    assert elapsed < 4.5
    assert raw["statusCode"] == 504
    error = json.loads(raw["body"])["error"]
    assert error["code"] == "deadline_exceeded"
    outcomes = [a["outcome"] for a in error["details"]["attempts"]]
    assert outcomes[0] == "timeout"
    assert set(outcomes[1:]) <= {"skipped_deadline"}


def test_no_fallback_starts_that_cannot_finish(retrying: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an sLM that eats the budget down to less than MIN_ATTEMPT_MS
    monkeypatch.setenv("MIN_ATTEMPT_MS", "400")
    monkeypatch.setenv("SLM_TIMEOUT_MS", "20000")
    retrying.emulator.fail("slm", "delay", delay_s=10)
    context = LocalLambdaContext(function_name="route", timeout_s=1.8)
    raw = retrying.invoke("route", _route_event(), context)
    assert raw["statusCode"] == 504
    assert retrying.emulator.calls_for("gemini") == []
