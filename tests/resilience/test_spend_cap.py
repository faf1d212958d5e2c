"""The daily spend cap through the real handlers."""

from __future__ import annotations

import itertools

import pytest

from gateway.core.catalogue import cost_usd
from tests.conftest import Gateway, load_event

_prompts = itertools.count()


def _route_event() -> dict[str, object]:
    return load_event("route", prompt=f"Say hello, request {next(_prompts)}", max_output_tokens=1000)


def test_a_capped_provider_gives_way_to_a_free_one(gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a daily cap too small for one Gemini call, and the (free) sLM first in the chain
    monkeypatch.setenv("AI_DAILY_COST_LIMIT", "0.0001")
    # When a prompt is routed
    answer = gateway.call("route", _route_event())
    # Then the free sLM answers without touching the cap
    assert answer.status == 200
    assert answer.body["provider"] == "slm"


def test_a_request_the_cap_refuses_everywhere_is_a_429(gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the sLM not configured, and a cap too small for any paid call
    monkeypatch.setenv("SLM_MODE", "local")
    monkeypatch.setenv("AI_DAILY_COST_LIMIT", "0.0001")
    answer = gateway.call("route", _route_event())
    assert answer.status == 429
    assert answer.body["error"]["code"] == "spend_cap_reached"
    attempts = answer.body["error"]["details"]["attempts"]
    assert [a["outcome"] for a in attempts] == ["budget_exceeded", "budget_exceeded"]
    assert "daily spend cap" in attempts[0]["error"]
    assert gateway.emulator.calls == []


def test_a_per_provider_cap_sends_the_request_to_the_next_provider(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLM_MODE", "local")
    monkeypatch.setenv("AI_DAILY_COST_LIMIT_GEMINI", "0.0001")
    answer = gateway.call("route", _route_event())
    assert [(a["provider"], a["outcome"]) for a in answer.body["attempts"]] == [
        ("gemini", "budget_exceeded"),
        ("huggingface", "ok"),
    ]


def test_spend_is_settled_from_the_providers_usage_and_shown_in_status(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a generous cap and Gemini answering
    monkeypatch.setenv("SPEND_LEASE_SECONDS", "0")  # each request gives its lease back: the ledger is exact at once
    monkeypatch.setenv("SLM_MODE", "local")
    monkeypatch.setenv("AI_DAILY_COST_LIMIT", "5")
    answers = [gateway.call("route", _route_event()).body for _ in range(3)]
    # Then status shows exactly the real cost of the three calls, with no reservation left open
    spend = gateway.call("status", load_event("status")).body["spend"]
    assert spend["spent_today_usd"] == pytest.approx(sum(a["usage"]["cost_usd"] for a in answers))
    assert spend["committed_usd"] == pytest.approx(spend["spent_today_usd"])
    assert spend["daily_limit_usd"] == 5.0


def test_a_blocked_answer_is_billed_and_so_is_the_fallback(gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a cap, and Gemini blocking the prompt (its answer still bills the prompt's tokens)
    monkeypatch.setenv("SPEND_LEASE_SECONDS", "0")  # each request gives its lease back: the ledger is exact at once
    monkeypatch.setenv("SLM_MODE", "local")
    monkeypatch.setenv("AI_DAILY_COST_LIMIT", "5")
    gateway.emulator.fail("gemini", "blocked", times=1)
    # When a prompt is routed
    answer = gateway.call("route", _route_event()).body
    assert [(a["provider"], a["outcome"]) for a in answer["attempts"]] == [
        ("gemini", "blocked"),
        ("huggingface", "ok"),
    ]
    # Then the day's spend is the fallback's cost plus the blocked call's input tokens, not the fallback alone
    spend = gateway.call("status", load_event("status")).body["spend"]
    blocked_cost = spend["spent_today_usd"] - answer["usage"]["cost_usd"]
    per_input_token = cost_usd(answer["attempts"][0]["model"], 1, 0)
    assert per_input_token
    assert blocked_cost / per_input_token == pytest.approx(round(blocked_cost / per_input_token), abs=1e-3)
    assert round(blocked_cost / per_input_token) >= 5
    assert spend["committed_usd"] == pytest.approx(spend["spent_today_usd"])


def test_a_timed_out_attempt_stays_billed_at_its_worst_case(gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a cap, two attempts per provider, and Gemini timing out once before it answers (the provider may
    # well finish and bill the call it never answered)
    monkeypatch.setenv("SPEND_LEASE_SECONDS", "0")  # each request gives its lease back: the ledger is exact at once
    monkeypatch.setenv("SLM_MODE", "local")
    monkeypatch.setenv("AI_DAILY_COST_LIMIT", "5")
    monkeypatch.setenv("RETRY_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("RETRY_BASE_DELAY_MS", "1")
    # (2.5 s: the retry's answer must come within it, even on a loaded machine; the first attempt waits for it)
    monkeypatch.setenv("PROVIDER_TIMEOUT_MS", "2500")
    gateway.emulator.fail("gemini", "delay", delay_s=6.0, times=1)
    # When a prompt is routed
    answer = gateway.call("route", _route_event()).body
    assert [(a["provider"], a["outcome"]) for a in answer["attempts"]] == [("gemini", "timeout"), ("gemini", "ok")]
    # Then the day's spend holds the timed-out call's worst case (at least its 1000 output tokens) besides the
    # answer, and no reservation stays open
    spend = gateway.call("status", load_event("status")).body["spend"]
    worst_output = cost_usd(answer["model"], 0, 1000)
    assert worst_output
    assert spend["spent_today_usd"] - answer["usage"]["cost_usd"] >= worst_output
    assert spend["committed_usd"] == pytest.approx(spend["spent_today_usd"])
