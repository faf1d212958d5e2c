"""POST /v1/route through the real handler, against moto and the provider emulator."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

import boto3
import pytest
from boto3.dynamodb.conditions import Key

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


# --------------------------------------------------------------------------- route intelligence (issue 4)


def _interactions(gateway: Gateway, topic: str) -> list[dict[str, Any]]:
    table = boto3.resource("dynamodb").Table(gateway.resources.names["InteractionsTable"])
    items: list[dict[str, Any]] = table.query(KeyConditionExpression=Key("pk").eq(f"topic#{topic}"))["Items"]
    return items


def _training_messages(gateway: Gateway) -> list[dict[str, Any]]:
    queue_url = gateway.resources.names["TrainingQueue"]
    messages = boto3.client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def test_a_complex_prompt_goes_straight_to_gemini(gateway: Gateway) -> None:
    # Given a prompt that asks for a long, reasoned answer
    prompt = "Design a multi-region architecture for a payments platform and compare the trade-offs step by step."
    # When it is routed with a large output budget
    answer = gateway.call("route", load_event("route", prompt=prompt, max_output_tokens=4096))
    # Then the sLM is never called: Gemini answers first, and the response says why
    assert answer.status == 200
    assert answer.body["provider"] == "gemini"
    assert [c.provider for c in gateway.emulator.calls] == ["gemini"]
    routing = answer.body["routing"]
    assert routing["complexity"]["level"] == "complex"
    assert routing["chain"] == ["gemini", "huggingface"]
    assert "complex prompt" in routing["reason"]


@pytest.mark.parametrize(
    ("environment", "provider", "chain"),
    [
        ({"VLLM_TRAINED": "true"}, "slm", ["slm", "huggingface", "gemini"]),
        ({"AI_PRIMARY_PROVIDER": "vllm", "SLM_MODE": "local"}, "huggingface", ["huggingface", "gemini"]),
        ({"SLM_MODE": "local"}, "gemini", ["gemini", "huggingface"]),
        ({"SLM_MODE": "local", "AI_USE_VLLM_BACKUP": "false"}, "gemini", ["gemini"]),
    ],
)
def test_the_configuration_picks_who_answers(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], provider: str, chain: list[str]
) -> None:
    # Given a deployment configured through its environment
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    # When a simple prompt is routed
    answer = gateway.call("route", load_event("route"))
    # Then the configured chain is the one tried, and its first provider answers
    assert answer.status == 200
    assert answer.body["routing"]["chain"] == chain
    assert answer.body["provider"] == provider


def test_a_trained_hugging_face_model_falls_back_to_gemini(gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VLLM_TRAINED", "true")
    monkeypatch.setenv("SLM_MODE", "local")
    gateway.emulator.fail("huggingface", "status", status=503)
    answer = gateway.call("route", load_event("route"))
    assert [(a["provider"], a["outcome"]) for a in answer.body["attempts"]] == [
        ("huggingface", "server_error"),
        ("gemini", "ok"),
    ]


def test_an_unhealthy_small_model_is_skipped(gateway: Gateway) -> None:
    # Given the scheduled probe just found the sLM failing
    from gateway.stores.provider_state import ProbeRecord, ProviderStateStore

    store = ProviderStateStore(gateway.resources.state_table)
    store.record_probe(
        ProbeRecord(provider="slm", model="slm", outcome="timeout", latency_ms=8000, probed_at=int(time.time()))
    )
    # When a simple prompt is routed
    answer = gateway.call("route", load_event("route"))
    # Then the sLM is not called at all
    assert answer.body["provider"] == "gemini"
    assert "slm" not in [c.provider for c in gateway.emulator.calls]
    assert "last probe failed" in answer.body["routing"]["reason"]


def test_the_answer_is_asked_for_in_the_detected_language(gateway: Gateway) -> None:
    # Given a Spanish prompt without a language
    event = load_event("route", prompt="¿Qué es un generador en Python y para qué sirve?")
    body = json.loads(event["body"])
    del body["language"]
    event["body"] = json.dumps(body)
    # When it is routed
    answer = gateway.call("route", event)
    # Then the answer was asked for in Spanish, and the response says so
    assert answer.body["language"] == "es"
    assert answer.body["routing"]["language_source"] == "detected"
    (call,) = gateway.emulator.calls
    assert "Answer in Spanish." in call.body["prompt"]


def test_a_repeated_request_is_answered_from_the_cache_at_no_cost(gateway: Gateway) -> None:
    # Given a first answer (a cache miss)
    first = gateway.call("route", load_event("route"))
    assert first.body["cached"] is False
    # When the same request comes again
    second = gateway.call("route", load_event("route"))
    # Then it is a cache hit: same text and provider, no provider call, no tokens, no cost
    assert second.status == 200
    assert second.body["cached"] is True
    assert second.body["text"] == first.body["text"]
    assert second.body["provider"] == first.body["provider"]
    assert second.body["attempts"] == []
    assert second.body["usage"] == {"input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0}
    assert len(gateway.emulator.calls) == 1


def test_anything_that_changes_the_answer_misses_the_cache(gateway: Gateway) -> None:
    gateway.call("route", load_event("route"))
    variants = [
        load_event("route", max_output_tokens=128),
        load_event("route", temperature=0.9),
        load_event("route", language="fr"),
        load_event("route", prompt="Explain what a Python decorator is in two sentences."),
    ]
    for event in variants:
        assert gateway.call("route", event).body["cached"] is False
    assert len(gateway.emulator.calls) == 1 + len(variants)


def test_no_cache_from_the_client_bypasses_the_cache_and_refreshes_it(gateway: Gateway) -> None:
    gateway.emulator.fail("slm", "body", body="the first answer", times=1)
    gateway.call("route", load_event("route"))
    # When the client asks for a fresh answer
    gateway.emulator.fail("slm", "body", body="the fresh answer", times=1)
    event = load_event("route")
    event["headers"]["Cache-Control"] = "no-cache"
    fresh = gateway.call("route", event)
    # Then the provider answers again, and the fresh answer is what the cache serves next
    assert fresh.body["cached"] is False
    assert fresh.body["text"] == "the fresh answer"
    again = gateway.call("route", load_event("route"))
    assert (again.body["cached"], again.body["text"]) == (True, "the fresh answer")
    assert len(gateway.emulator.calls) == 2


def test_an_expired_cache_entry_is_not_served(gateway: Gateway) -> None:
    # Given a cached answer whose TTL has passed (DynamoDB deletes expired items only eventually)
    gateway.call("route", load_event("route"))
    table = boto3.resource("dynamodb").Table(gateway.resources.names["CacheTable"])
    (item,) = [i for i in table.scan()["Items"] if str(i["pk"]).startswith("route#")]
    assert int(str(item["expires_at"])) - int(str(item["stored_at"])) == 3600  # CACHE_TTL_SECONDS default
    table.update_item(
        Key={"pk": item["pk"]}, UpdateExpression="SET expires_at = :past", ExpressionAttributeValues={":past": 1}
    )
    # When the same request comes again
    answer = gateway.call("route", load_event("route"))
    # Then the provider answers it
    assert answer.body["cached"] is False
    assert len(gateway.emulator.calls) == 2


def test_every_answered_route_is_stored_and_keeps_no_prompt_once_compared(gateway: Gateway) -> None:
    # When a prompt is answered
    answer = gateway.call("route", load_event("route"))
    # Then the interaction is stored: user, topic, prompt hash, answer, provider, tokens, cost, expiry
    (item,) = _interactions(gateway, "coding")
    prompt = json.loads(load_event("route")["body"])["prompt"]
    assert item["user_id"] == "user-123"
    assert item["topic"] == "coding"
    assert item["prompt_hash"] == hashlib.sha256(prompt.encode()).hexdigest()
    assert item["answer"] == answer.body["text"]
    assert item["provider"] == "slm"
    assert int(item["input_tokens"]) == answer.body["usage"]["input_tokens"]
    assert item["cost_usd"] == 0
    assert int(item["expires_at"]) - int(item["created_at"]) == 30 * 24 * 3600
    # And once the repetition detector has compared it, its embedding is kept and the prompt is not
    assert gateway.detect_repetitions().succeeded == 1
    (item,) = _interactions(gateway, "coding")
    assert item["embedder"] == "local-ngram-512"
    assert len(bytes(item["embedding"].value)) == 1024
    stored = {k: v for k, v in item.items() if k not in ("embedding", "answer")}  # the emulator echoes prompts
    assert prompt not in json.dumps(stored, default=str)


def test_the_route_answers_before_any_repetition_is_looked_for(gateway: Gateway) -> None:
    # Given a question asked twice
    for _ in range(2):
        answer = gateway.call("route", load_event("route", prompt="How do I reverse a list in Python?"))
        assert answer.status == 200
    # Then nothing is compared on the request: no training example until the detector runs
    assert "repetition" not in answer.body
    assert _training_messages(gateway) == []
    assert [i.get("embedding") for i in _interactions(gateway, "coding")] == [None, None]
    assert gateway.detect_repetitions().succeeded == 2
    assert len(_training_messages(gateway)) == 1


def test_a_paraphrased_question_becomes_a_training_example(gateway: Gateway) -> None:
    # Given an answered question
    gateway.call("route", load_event("route", prompt="How do I reverse a list in Python?"))
    gateway.detect_repetitions()
    assert _training_messages(gateway) == []
    # When another user asks it again in other words
    answer = gateway.call("route", load_event("route", user_id="user-456", prompt="How can I reverse a Python list?"))
    gateway.detect_repetitions()
    # Then the repetition is detected and a training example is queued
    (example,) = _training_messages(gateway)
    assert example["similarity"] == 1.0
    assert example["prompt"] == "How can I reverse a Python list?"
    assert example["answer"] == answer.body["text"]
    assert (example["topic"], example["language"], example["provider"]) == ("coding", "en", "slm")
    assert "user" not in json.dumps(example)


def test_a_training_example_carries_no_secret_or_personal_data(gateway: Gateway) -> None:
    # Given a question, asked twice, that quotes an e-mail address and an AWS key id
    prompt = "How do I reverse a Python list for jane.doe@example.com with key AKIAIOSFODNN7EXAMPLE?"
    gateway.call("route", load_event("route", prompt=prompt))
    gateway.call("route", load_event("route", user_id="user-456", prompt=prompt.replace("How do I", "How can I")))
    # Then neither the stored interactions nor the queued example (bound for S3 and maybe a public
    # dataset) hold them
    for item in _interactions(gateway, "coding"):
        assert "jane.doe@example.com" not in item["prompt"]
        assert "AKIAIOSFODNN7EXAMPLE" not in item["prompt"]
    gateway.detect_repetitions()
    (example,) = _training_messages(gateway)
    assert "jane.doe@example.com" not in json.dumps(example)
    assert "AKIAIOSFODNN7EXAMPLE" not in json.dumps(example)
    assert "[REDACTED:email]" in example["prompt"]


def test_a_different_question_of_the_same_topic_is_not_a_repetition(gateway: Gateway) -> None:
    gateway.call("route", load_event("route", prompt="How do I reverse a list in Python?"))
    gateway.call("route", load_event("route", prompt="How do I sort a list in Python?"))
    assert gateway.detect_repetitions().succeeded == 2
    assert _training_messages(gateway) == []
    assert len(_interactions(gateway, "coding")) == 2


def test_the_same_question_in_another_topic_is_not_a_repetition(gateway: Gateway) -> None:
    gateway.call("route", load_event("route", prompt="How do I reverse a list in Python?"))
    answer = gateway.call("route", load_event("route", prompt="How do I reverse a list in Python?", topic_hint="misc"))
    assert answer.body["topic"] == "misc"
    assert gateway.detect_repetitions().succeeded == 2
    assert _training_messages(gateway) == []


def test_the_similarity_threshold_is_configurable(gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIMILARITY_THRESHOLD", "0.6")
    gateway.call("route", load_event("route", prompt="How do I reverse a list in Python?"))
    gateway.call("route", load_event("route", prompt="How do I sort a list in Python?"))
    gateway.detect_repetitions()
    (example,) = _training_messages(gateway)
    assert 0.6 <= example["similarity"] < 0.9


def test_a_broken_interactions_store_does_not_fail_the_request(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INTERACTIONS_TABLE", "no-such-table")
    answer = gateway.call("route", load_event("route"))
    assert answer.status == 200
    assert answer.body["text"]
