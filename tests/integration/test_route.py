"""POST /v1/route through the real handler, against moto and the provider emulator."""

from __future__ import annotations

import json

from tests.conftest import EMULATOR_KEY, Gateway, load_event


def test_route_answers_from_the_small_model_first(gateway: Gateway) -> None:
    # Given every provider healthy
    # When the route event is sent
    answer = gateway.call("route", load_event("route"))
    # Then the sLM answers, first in the chain, and the response says what happened
    assert answer.status == 200
    body = answer.body
    assert body["provider"] == "slm"
    assert body["fallback_used"] is False
    assert [a["outcome"] for a in body["attempts"]] == ["ok"]
    assert "Python generator" in body["text"]
    assert body["topic"] == "coding"
    assert body["usage"]["input_tokens"] > 0
    assert body["usage"]["cost_usd"] == 0.0
    assert body["request_id"] == answer.headers["x-request-id"]
    assert [c.provider for c in gateway.emulator.calls] == ["slm"]


def test_route_falls_back_to_gemini_when_the_small_model_fails(gateway: Gateway) -> None:
    # Given the sLM answering 503
    gateway.emulator.fail("slm", "status", status=503)
    # When a prompt is routed
    answer = gateway.call("route", load_event("route"))
    # Then Gemini answers, and both attempts are listed with their outcomes
    assert answer.status == 200
    assert answer.body["provider"] == "gemini"
    assert answer.body["model"] == "gemini-2.5-flash"
    assert answer.body["fallback_used"] is True
    outcomes = [(a["provider"], a["outcome"]) for a in answer.body["attempts"]]
    assert outcomes == [("slm", "server_error"), ("gemini", "ok")]
    assert "503" in answer.body["attempts"][0]["error"]
    # and Gemini's usage is priced from the catalogue (0.30 / 2.50 USD per million tokens)
    usage = answer.body["usage"]
    assert usage["cost_usd"] == round((usage["input_tokens"] * 0.30 + usage["output_tokens"] * 2.50) / 1e6, 10)


def test_route_reaches_hugging_face_when_the_first_two_fail(gateway: Gateway) -> None:
    # Given the sLM refusing connections and Gemini rate limited
    gateway.emulator.fail("slm", "reset")
    gateway.emulator.fail("gemini", "status", status=429, retry_after="30")
    # When a prompt is routed
    answer = gateway.call("route", load_event("route"))
    # Then Hugging Face answers third
    assert answer.status == 200
    outcomes = [a["outcome"] for a in answer.body["attempts"]]
    assert outcomes == ["connection_error", "rate_limited", "ok"]
    assert answer.body["provider"] == "huggingface"


def test_a_provider_that_hangs_times_out_and_the_next_answers(gateway: Gateway, monkeypatch) -> None:
    # Given an sLM that takes 3 s and an sLM timeout of 300 ms
    monkeypatch.setenv("SLM_TIMEOUT_MS", "300")
    gateway.emulator.fail("slm", "delay", delay_s=3.0, times=1)
    # When a prompt is routed
    answer = gateway.call("route", load_event("route"))
    # Then the sLM attempt is a timeout after about 300 ms and Gemini answers
    assert answer.status == 200
    first = answer.body["attempts"][0]
    assert first["outcome"] == "timeout"
    assert 250 <= first["latency_ms"] < 2000
    assert answer.body["provider"] == "gemini"


def test_every_provider_failing_is_a_502_listing_the_attempts(gateway: Gateway) -> None:
    # Given every provider failing differently
    gateway.emulator.fail("slm", "malformed")
    gateway.emulator.fail("gemini", "empty")
    gateway.emulator.fail("huggingface", "status", status=401)
    # When a prompt is routed
    answer = gateway.call("route", load_event("route"))
    # Then the client gets a 502 with every attempt and no stack trace
    assert answer.status == 502
    error = answer.body["error"]
    assert error["code"] == "all_providers_failed"
    outcomes = [a["outcome"] for a in error["details"]["attempts"]]
    assert outcomes == ["malformed_response", "empty_response", "auth_error"]
    assert "Traceback" not in json.dumps(answer.body)


def test_a_safety_block_is_its_own_outcome(gateway: Gateway) -> None:
    gateway.emulator.fail("slm", "status", status=500)
    gateway.emulator.fail("gemini", "blocked")
    answer = gateway.call("route", load_event("route"))
    assert answer.status == 200
    assert [a["outcome"] for a in answer.body["attempts"]] == ["server_error", "blocked", "ok"]


def test_no_configured_provider_is_a_503(gateway: Gateway, monkeypatch) -> None:
    # Given no keys and no sLM
    from dev.aws_stack import provision

    provision(secret_values={"GEMINI_API_KEY": "", "HUGGINGFACE_API_KEY": "", "SLM_AUTH_BEARER": ""})
    monkeypatch.setenv("SLM_MODE", "local")
    # When a prompt is routed
    answer = gateway.call("route", load_event("route"))
    # Then nothing is attempted and the client is told why
    assert answer.status == 503
    assert answer.body["error"]["code"] == "no_provider_configured"
    assert gateway.emulator.calls == []


def test_invalid_input_is_a_422_naming_the_field(gateway: Gateway) -> None:
    answer = gateway.call("route", load_event("route", temperature=7, prompt="   "))
    assert answer.status == 422
    fields = {d["field"] for d in answer.body["error"]["details"]}
    assert fields == {"temperature", "prompt"}
    assert "temperature" in answer.body["error"]["message"]
    assert answer.body["error"]["request_id"]
    assert gateway.emulator.calls == []


def test_a_body_that_is_not_json_is_a_422(gateway: Gateway) -> None:
    event = load_event("route")
    event["body"] = "{not json"
    answer = gateway.call("route", event)
    assert answer.status == 422
    assert answer.body["error"]["details"] == [{"field": "body", "message": "the body is not valid JSON"}]


def test_an_oversized_body_is_a_413(gateway: Gateway, monkeypatch) -> None:
    monkeypatch.setenv("MAX_BODY_BYTES", "1000")
    answer = gateway.call("route", load_event("route", prompt="x" * 2000))
    assert answer.status == 413
    assert answer.body["error"]["code"] == "payload_too_large"
    assert gateway.emulator.calls == []


def test_an_incoming_request_id_is_echoed(gateway: Gateway) -> None:
    event = load_event("route")
    event["headers"]["X-Request-Id"] = "client-trace-42"
    answer = gateway.call("route", event)
    assert answer.headers["x-request-id"] == "client-trace-42"
    assert answer.body["request_id"] == "client-trace-42"


def test_keys_reach_the_providers_but_never_the_response(gateway: Gateway) -> None:
    # Given Gemini failing with an error that echoes the request
    gateway.emulator.fail("slm", "status", status=503)
    answer = gateway.call("route", load_event("route"))
    # Then the provider saw an authenticated call, and the key appears nowhere in the answer
    assert all(call.authenticated for call in gateway.emulator.calls_for("gemini"))
    assert EMULATOR_KEY not in json.dumps(answer.raw)
