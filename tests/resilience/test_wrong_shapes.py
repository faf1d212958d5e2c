"""A 200 in a shape the provider's documentation does not show is classified, never a 500.

For every provider, through the real handler: an answer that cannot be read is `malformed_response` (counted by the
breaker, the next provider tried, settled from the usage it reports, else at its reservation); content given as a
list of text parts, and token counts given as numbers in strings, are read.
"""

from __future__ import annotations

import itertools
import json

import pytest

from gateway.core.catalogue import cost_usd
from tests.conftest import Answer, Gateway, load_event

_calls = itertools.count()

UNREADABLE = {
    "gemini": {
        "candidates is a string": {"candidates": "not a list"},
        "content is a string": {"candidates": [{"content": "hello", "finishReason": "STOP"}]},
        "parts is a string": {"candidates": [{"content": {"parts": "hello"}}]},
        "text is a list": {"candidates": [{"content": {"parts": [{"text": ["a", "b"]}]}}]},
        "a token count in words": {
            "candidates": [{"content": {"parts": [{"text": "hi"}]}, "finishReason": "STOP"}],
            "usageMetadata": {"promptTokenCount": "many"},
        },
        "the answer is a list": [{"candidates": []}],
        "the answer is a string": "hello",
    },
    "huggingface": {
        "message is a string": {"choices": [{"message": "hello", "finish_reason": "stop", "index": 0}]},
        "choices is a string": {"choices": "hello"},
        "choices holds null": {"choices": [None]},
        "content is a number": {"choices": [{"message": {"role": "assistant", "content": 42}, "index": 0}]},
        "a content part without text": {
            "choices": [{"message": {"role": "assistant", "content": [{"type": "image_url"}]}, "index": 0}]
        },
        "the answer is a list": [1, 2],
    },
    "slm": {
        "generated_text is a number": {"generated_text": 42},
        "generated_text is an object": {"generated_text": {"text": "hi"}},
        "the answer is a list of strings": ["hello"],
    },
}
CASES = [pytest.param(p, shape, id=f"{p}: {shape}") for p, shapes in UNREADABLE.items() for shape in shapes]
FALLBACK = {"gemini": "huggingface", "huggingface": "gemini", "slm": "gemini"}


def _ask(gateway: Gateway, provider: str, endpoint: str = "") -> Answer:
    """A request whose chain has `provider` first: Gemini on /v1/handle-error (or /v1/route without an sLM), Hugging
    Face on /v1/route with AI_PRIMARY_PROVIDER=vllm and no sLM, the sLM on /v1/route (a simple prompt)."""
    n = next(_calls)
    if provider == "gemini" and endpoint != "route":
        error = {"message": "KeyError: 'user_id'", "type": "KeyError", "code": f"data['user_id']  # {n}"}
        return gateway.call("handle_error", load_event("handle_error", error=error))
    return gateway.call("route", load_event("route", prompt=f"Say hello, request {n}"))


@pytest.fixture
def shapes_env(gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> Gateway:
    monkeypatch.setenv("BREAKER_FLUSH_MS", "0")  # each failure counted at once, to be read back below
    monkeypatch.setenv("BREAKER_CACHE_MS", "0")
    return gateway


def _order(monkeypatch: pytest.MonkeyPatch, provider: str) -> None:
    if provider in ("huggingface", "gemini"):
        monkeypatch.setenv("SLM_MODE", "local")
    if provider == "huggingface":
        monkeypatch.setenv("AI_PRIMARY_PROVIDER", "vllm")


@pytest.mark.parametrize(("provider", "shape"), CASES)
def test_an_answer_in_a_wrong_shape_is_malformed_and_the_next_provider_answers(
    shapes_env: Gateway, monkeypatch: pytest.MonkeyPatch, provider: str, shape: str
) -> None:
    gateway = shapes_env
    _order(monkeypatch, provider)
    # Given the provider answering 200 in a shape its API does not allow
    gateway.emulator.fail(provider, "raw", body=json.dumps(UNREADABLE[provider][shape]))
    # When a request reaches it first
    answer = _ask(gateway, provider)
    # Then its attempt is a malformed response, and the next provider's answer is the client's
    assert answer.status == 200, answer.body
    attempts = [(a["provider"], a["outcome"]) for a in answer.body["attempts"]]
    assert attempts == [(provider, "malformed_response"), (FALLBACK[provider], "ok")]
    # And the breaker counted it as the provider's failure
    status = gateway.call("status", load_event("status")).body["providers"]
    circuit = next(p for p in status if p["name"] == provider)["circuit"]
    assert circuit["failures"] == 1


READABLE = {
    "huggingface: content as text parts": (
        "huggingface",
        {
            "choices": [
                {
                    "message": {
                        "role": "assistant",
                        "content": [{"type": "text", "text": "Hel"}, {"type": "text", "text": "lo"}],
                    },
                    "finish_reason": "stop",
                    "index": 0,
                }
            ],
            "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
        },
        ("Hello", 5, 2),
    ),
    "huggingface: token counts in strings": (
        "huggingface",
        {
            "choices": [{"message": {"role": "assistant", "content": "Hello"}, "finish_reason": "stop", "index": 0}],
            "usage": {"prompt_tokens": "12", "completion_tokens": "3", "total_tokens": "15"},
        },
        ("Hello", 12, 3),
    ),
    "slm: text as parts, counts in strings": (
        "slm",
        {
            "generated_text": [{"type": "text", "text": "Hel"}, {"type": "text", "text": "lo"}],
            "input_tokens": "9",
            "output_tokens": "2",
        },
        ("Hello", 9, 2),
    ),
    "gemini: token counts in strings": (
        "gemini",
        {
            "candidates": [{"content": {"parts": [{"text": "Hello"}]}, "finishReason": "STOP"}],
            "usageMetadata": {"promptTokenCount": "7", "candidatesTokenCount": "2", "totalTokenCount": "9"},
        },
        ("Hello", 7, 2),
    ),
}


@pytest.mark.parametrize("name", READABLE)
def test_shapes_some_providers_really_send_are_read(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    provider, body, (text, input_tokens, output_tokens) = READABLE[name]
    _order(monkeypatch, provider)
    gateway.emulator.fail(provider, "raw", body=json.dumps(body))
    answer = _ask(gateway, provider, "route")
    assert answer.status == 200, answer.body
    assert [(a["provider"], a["outcome"]) for a in answer.body["attempts"]] == [(provider, "ok")]
    assert answer.body["usage"]["input_tokens"] == input_tokens
    assert answer.body["usage"]["output_tokens"] == output_tokens
    assert answer.body["text"] == text


def _spent_today(gateway: Gateway) -> float:
    spend = gateway.call("status", load_event("status")).body["spend"]
    assert spend["committed_usd"] == pytest.approx(spend["spent_today_usd"])  # no reservation left open
    spent: float = spend["spent_today_usd"]
    return spent


@pytest.fixture
def capped(gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> Gateway:
    monkeypatch.setenv("AI_DAILY_COST_LIMIT", "5")
    monkeypatch.setenv("SPEND_LEASE_SECONDS", "0")  # each request gives its lease back: the ledger is exact at once
    _order(monkeypatch, "huggingface")
    return gateway


def test_an_unreadable_answer_that_reports_its_usage_is_settled_from_it(capped: Gateway) -> None:
    # Given Hugging Face answering in a wrong shape, but with its usage
    body = {"choices": "hello", "usage": {"prompt_tokens": 50, "completion_tokens": 7, "total_tokens": 57}}
    capped.emulator.fail("huggingface", "raw", body=json.dumps(body))
    answer = _ask(capped, "huggingface").body
    # Then the day's spend is the fallback's answer plus what the unreadable answer billed
    billed = cost_usd("meta-llama/Llama-3.1-8B-Instruct", 50, 7)
    assert billed
    assert _spent_today(capped) == pytest.approx(answer["usage"]["cost_usd"] + billed)


def test_an_unreadable_answer_without_usage_is_settled_at_its_reservation(capped: Gateway) -> None:
    # Given Hugging Face answering in a shape whose usage cannot be read either (it may well have billed)
    capped.emulator.fail("huggingface", "raw", body=json.dumps({"choices": [None], "usage": "lots"}))
    answer = _ask(capped, "huggingface").body
    # Then its worst case stays spent: at least the 256 output tokens it was allowed (events/route.json)
    worst_output = cost_usd("meta-llama/Llama-3.1-8B-Instruct", 0, 256)
    assert worst_output
    assert _spent_today(capped) - answer["usage"]["cost_usd"] >= worst_output
