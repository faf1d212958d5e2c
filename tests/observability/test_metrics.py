"""The metrics an operator alarms on are emitted (as EMF on stdout) with the values and dimensions they promise."""

from __future__ import annotations

import httpx
import pytest

from dev.chat_server import ChatServer
from dev.lambda_runtime import api_event
from gateway.core.catalogue import cost_usd
from tests.conftest import Gateway, load_event
from tests.observability.capture import Capture

SERVICE = {"service": "ai-gateway"}


def test_a_fallback_is_counted_with_each_attempts_latency_tokens_and_cost(gateway: Gateway, captured: Capture) -> None:
    # Given an sLM that fails, so that Gemini answers as the fallback
    gateway.emulator.fail("slm", "status", status=503)
    # When a prompt is routed
    answer = gateway.call("route", load_event("route"))
    output = captured.read()
    assert answer.status == 200
    assert answer.body["provider"] == "gemini"
    # Then the request and its fallback are counted for the service
    assert output.values("Requests", **SERVICE) == [1.0]
    assert output.values("Fallbacks", **SERVICE) == [1.0]
    assert output.values("ServerErrors", **SERVICE) == []
    # And each attempt has its own record, dimensioned by provider (and by service alone, for totals)
    slm, gemini = (r for r in output.records("ProviderAttempts"))
    assert slm["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["provider", "service"], ["service"]]
    assert (slm["provider"], slm["outcome"]) == ("slm", "server_error")
    assert output.values("ProviderFailures", provider="slm", **SERVICE) == [1.0]
    assert output.values("ProviderLatency", provider="slm", **SERVICE) == [answer.body["attempts"][0]["latency_ms"]]
    # And the answering attempt reports its tokens and cost, as the response does
    usage = answer.body["usage"]
    assert (gemini["provider"], gemini["outcome"], gemini["model"]) == ("gemini", "ok", answer.body["model"])
    assert output.values("ProviderAnswers", provider="gemini", **SERVICE) == [1.0]
    assert output.values("InputTokens", provider="gemini", **SERVICE) == [usage["input_tokens"]]
    assert output.values("OutputTokens", provider="gemini", **SERVICE) == [usage["output_tokens"]]
    assert output.values("CostUsd", provider="gemini", **SERVICE) == [pytest.approx(usage["cost_usd"])]
    assert usage["cost_usd"] == cost_usd(answer.body["model"], usage["input_tokens"], usage["output_tokens"])
    # And every record carries the request id, to find its log lines
    assert {r["request_id"] for r in output.records("ProviderAttempts")} == {answer.body["request_id"]}


def test_client_and_server_errors_are_counted_apart(gateway: Gateway, captured: Capture) -> None:
    # When one request is invalid and one finds every provider failing
    invalid = gateway.call("route", api_event("POST", "/v1/route", {"user_id": "u"}))
    for provider in ("slm", "gemini", "huggingface"):
        gateway.emulator.fail(provider, "status", status=500)
    failed = gateway.call("route", api_event("POST", "/v1/route", {"user_id": "u", "prompt": "hi"}))
    output = captured.read()
    # Then the first is a client error and the second a server error
    assert (invalid.status, failed.status) == (422, 502)
    assert output.values("Requests", **SERVICE) == [1.0, 1.0]
    assert output.values("ClientErrors", **SERVICE) == [1.0]
    assert output.values("ServerErrors", **SERVICE) == [1.0]
    # And the failed providers are counted by provider, with no answer and no fallback
    for provider in ("slm", "gemini", "huggingface"):
        assert output.values("ProviderFailures", provider=provider, **SERVICE) == [1.0], provider
    assert output.values("ProviderAnswers", **SERVICE) == []
    assert output.values("Fallbacks", **SERVICE) == []


def test_breaker_transitions_and_skipped_providers_are_counted(
    gateway: Gateway, captured: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a breaker that opens on the first failure, and an sLM that fails
    monkeypatch.setenv("BREAKER_FAILURE_THRESHOLD", "1")
    monkeypatch.setenv("BREAKER_CACHE_MS", "0")
    monkeypatch.setenv("CACHE_TTL_SECONDS", "0")  # the second request must reach the chain, not the cache
    gateway.emulator.fail("slm", "status", status=503)
    # When two requests come in
    first = gateway.call("route", load_event("route"))
    second = gateway.call("route", load_event("route"))
    output = captured.read()
    # Then the first opens the sLM's circuit and the second skips it without a call
    assert [a["outcome"] for a in first.body["attempts"]] == ["server_error", "ok"]
    assert [a["outcome"] for a in second.body["attempts"]] == ["circuit_open", "ok"]
    assert output.values("BreakerOpened", **SERVICE) == [1.0]
    assert output.values("ProviderSkips", provider="slm", **SERVICE) == [1.0]
    assert output.values("ProviderLatency", provider="slm", **SERVICE) == [first.body["attempts"][0]["latency_ms"]]
    assert output.values("Fallbacks", **SERVICE) == [1.0, 1.0]


def test_the_scheduled_probe_reports_spend_against_the_tightest_cap(
    gateway: Gateway, captured: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given caps of 1 USD a day overall and 0.005 USD for Gemini, and a Gemini answer paid today
    monkeypatch.setenv("AI_DAILY_COST_LIMIT", "1")
    monkeypatch.setenv("AI_DAILY_COST_LIMIT_GEMINI", "0.005")
    monkeypatch.setenv("SPEND_LEASE_SECONDS", "0")  # the lease is given back (its spend reported) as the call ends
    gateway.emulator.fail("slm", "status", status=503)
    answer = gateway.call("route", load_event("route"))
    assert answer.body["provider"] == "gemini"
    spent = answer.body["usage"]["cost_usd"]
    assert spent > 0
    captured.read()
    # When the schedule runs the probe
    gateway.invoke("status", load_event("schedule_status"))
    output = captured.read()
    # Then today's spend and its share of the tightest cap (Gemini's) are reported
    assert output.values("DailySpendUsd", **SERVICE) == [pytest.approx(spent)]
    assert output.values("SpendCapUtilisation", **SERVICE) == [pytest.approx(100 * spent / 0.005, abs=1e-4)]
    assert output.records("SpendCapUtilisation")[0]["_aws"]["CloudWatchMetrics"][0]["Metrics"][-1] == {
        "Name": "SpendCapUtilisation",
        "Unit": "Percent",
    }


def test_without_a_cap_the_probe_reports_no_spend(gateway: Gateway, captured: Capture) -> None:
    # Given no spend cap (the default)
    # When the schedule runs the probe
    gateway.invoke("status", load_event("schedule_status"))
    output = captured.read()
    # Then the probe is counted, and there is no spend metric
    assert output.values("ProvidersProbed", **SERVICE) == [3.0]
    assert output.values("SpendCapUtilisation", **SERVICE) == []
    assert output.values("DailySpendUsd", **SERVICE) == []


def test_a_stream_broken_after_its_status_is_counted_as_interrupted(gateway: Gateway, captured: Capture) -> None:
    # Given Gemini dropping its connection after one chunk of a streamed answer, and one whole stream before it
    body = {"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "Say hello"}], "stream": True}
    with ChatServer() as server:
        url = f"{server.url}/v1/chat/completions"
        with httpx.stream("POST", url, json=body, timeout=30) as whole:
            assert "data: [DONE]" in list(whole.iter_lines())
        gateway.emulator.fail("gemini", "cut", after_chunks=1)
        # When a client streams the answer (its status, 200, was sent before the cut)
        with httpx.stream("POST", url, json=body, timeout=30) as broken:
            lines = list(broken.iter_lines())
    output = captured.read()
    assert broken.status_code == 200
    assert "data: [DONE]" not in lines
    # Then the broken one, and only it, is counted where the API's 5xx rate alarm looks (API Gateway saw a 200)
    assert output.values("StreamsInterrupted", **SERVICE) == [1.0]
    assert output.values("Requests", **SERVICE) == [1.0, 1.0]
