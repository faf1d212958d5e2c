"""The streaming chain's fault matrix, through the real SDKs against the provider emulator: before the first chunk a
stream falls back exactly as a whole answer does; after it, a cut, a silence past the deadline or an error ends the
stream with an error (never as if it were complete); spend is settled from the streamed usage (thinking included), or
at the reservation when the stream was cut; many streams at once all complete."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from gateway.config.context import RequestContext
from gateway.core.catalogue import cost_usd
from gateway.core.deadline import Deadline
from gateway.core.errors import AllProvidersFailedError, StreamInterruptedError
from gateway.providers import registry
from gateway.providers.base import GenerationRequest, ProviderSpec
from gateway.resilience.chain import open_stream
from gateway.resilience.spend import worst_case_cost
from gateway.resilience.streaming import ChainStream
from tests.conftest import Gateway, load_event

REQUEST = GenerationRequest(prompt="Explain in a few words why streaming answers feel faster.", max_output_tokens=200)
FALLBACK = {"slm": "gemini", "gemini": "huggingface", "huggingface": "gemini"}
BEFORE_THE_FIRST_CHUNK: dict[str, tuple[dict[str, Any], str]] = {
    "503": ({"kind": "status", "status": 503}, "server_error"),
    "429": ({"kind": "status", "status": 429}, "rate_limited"),
    "connection reset": ({"kind": "reset"}, "connection_error"),
    "silent past its timeout": ({"kind": "delay", "delay_s": 5.0}, "timeout"),
    "cut before any chunk": ({"kind": "cut", "after_chunks": 0}, "connection_error"),
}


def _specs(*names: str) -> list[ProviderSpec]:
    ctx = RequestContext.for_invocation("test", None)
    return [registry.spec(name, ctx.settings, ctx.keys) for name in names]


async def _read(stream: ChainStream) -> list[str]:
    return [piece.text async for piece in stream.pieces() if piece is not None and piece.text]


def _stream(specs: list[ProviderSpec], deadline_s: float = 20.0) -> tuple[ChainStream, list[str]]:
    async def run() -> tuple[ChainStream, list[str]]:
        stream = await open_stream(specs, REQUEST, Deadline(time.monotonic() + deadline_s))
        return stream, await _read(stream)

    return asyncio.run(run())


def _interrupted(specs: list[ProviderSpec], deadline_s: float = 20.0) -> tuple[list[str], StreamInterruptedError]:
    pieces: list[str] = []

    async def run() -> None:
        stream = await open_stream(specs, REQUEST, Deadline(time.monotonic() + deadline_s))
        async for piece in stream.pieces():
            if piece is not None and piece.text:
                pieces.append(piece.text)

    with pytest.raises(StreamInterruptedError) as failed:
        asyncio.run(run())
    return pieces, failed.value


@pytest.mark.parametrize("provider", ["slm", "gemini", "huggingface"])
@pytest.mark.parametrize("fault", list(BEFORE_THE_FIRST_CHUNK))
def test_a_fault_before_the_first_chunk_falls_back(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch, provider: str, fault: str
) -> None:
    # Given the provider failing before its first chunk, and a fallback after it
    monkeypatch.setenv("PROVIDER_TIMEOUT_MS", "2000")
    monkeypatch.setenv("SLM_TIMEOUT_MS", "2000")
    options, outcome = BEFORE_THE_FIRST_CHUNK[fault]
    gateway.emulator.fail(provider, **options)
    # When the chain streams
    stream, pieces = _stream(_specs(provider, FALLBACK[provider]))
    # Then the fallback streams the whole answer, and the failure is only in the attempts
    assert stream.spec.name == FALLBACK[provider]
    assert stream.fallback_used
    assert [(a.provider, a.outcome) for a in stream.attempts] == [(provider, outcome), (FALLBACK[provider], "ok")]
    assert stream.generation is not None
    assert "".join(pieces) == stream.generation.text
    assert stream.generation.text.startswith(f"[emulated {FALLBACK[provider]}")


@pytest.mark.parametrize("provider", ["gemini", "huggingface"])
def test_a_stream_cut_after_two_chunks_ends_in_an_error_and_never_falls_back(gateway: Gateway, provider: str) -> None:
    # Given the provider dropping its connection after two chunks
    gateway.emulator.fail(provider, "cut", after_chunks=2)
    # When the chain streams
    pieces, error = _interrupted(_specs(provider, FALLBACK[provider]))
    # Then the two chunks came, then the error, with the attempt that failed
    assert len(pieces) == 2
    assert error.code == "provider_stream_failed"
    assert [(a["provider"], a["outcome"]) for a in error.details["attempts"]] == [(provider, "connection_error")]
    # And the fallback was never asked: the answer had begun
    assert gateway.emulator.calls_for(FALLBACK[provider]) == []


def test_a_stream_silent_past_the_deadline_ends_in_an_error_at_the_deadline(gateway: Gateway) -> None:
    # Given Gemini going silent after one chunk for far longer than the request may take
    gateway.emulator.fail("gemini", "stall", after_chunks=1, delay_s=30)
    started = time.monotonic()
    # When the chain streams with 3 s left
    pieces, error = _interrupted(_specs("gemini"), deadline_s=3.0)
    # Then the stream ends in a timeout when the deadline comes, not when the provider speaks again
    assert len(pieces) == 1
    assert error.details["attempts"][-1]["outcome"] == "timeout"
    assert 2.5 < time.monotonic() - started < 10


def test_every_provider_failing_before_a_chunk_is_an_error_before_the_stream(gateway: Gateway) -> None:
    # Given every provider answering 503
    gateway.emulator.fail("*", "status", status=503)

    # When the chain streams, then no stream opens: the error is the buffered chain's
    async def run() -> None:
        await open_stream(_specs("slm", "gemini", "huggingface"), REQUEST, Deadline(time.monotonic() + 20))

    with pytest.raises(AllProvidersFailedError) as failed:
        asyncio.run(run())
    assert [a["outcome"] for a in failed.value.details["attempts"]] == ["server_error"] * 3


def _spent(gateway: Gateway) -> dict[str, Any]:
    spend: dict[str, Any] = gateway.call("status", load_event("status")).body["spend"]
    return spend


@pytest.fixture
def capped(gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> Gateway:
    monkeypatch.setenv("AI_DAILY_COST_LIMIT", "5")
    monkeypatch.setenv("SPEND_LEASE_SECONDS", "0")  # each lease given back at the end of its request: exact at once
    return gateway


def test_spend_is_settled_from_the_streamed_usage_thinking_tokens_included(capped: Gateway) -> None:
    # Given Gemini billing 900 output tokens for a short answer (thinking, as Gemini 2.5 bills it)
    capped.emulator.fail("gemini", "overbill", tokens=900)
    # When its answer streams whole
    stream, _ = _stream(_specs("gemini"))
    # Then the usage counts the thinking tokens, and the ledger was charged exactly that
    assert stream.generation is not None
    assert stream.generation.output_tokens == 900
    expected = cost_usd(stream.spec.model, stream.generation.input_tokens, 900)
    assert expected is not None
    assert _spent(capped)["spent_today_usd"] == pytest.approx(expected, abs=1e-6)


def test_a_cut_stream_is_settled_at_its_reservation(capped: Gateway) -> None:
    # Given Gemini cutting its stream after two chunks (the part streamed may well be billed)
    capped.emulator.fail("gemini", "cut", after_chunks=2)
    (spec,) = _specs("gemini")
    # When its answer is cut
    _interrupted([spec])
    # Then the call is charged its worst case: the cap holds whatever the provider bills
    assert _spent(capped)["spent_today_usd"] == pytest.approx(worst_case_cost(spec.model, REQUEST), abs=1e-6)


def test_twenty_concurrent_streams_all_complete(gateway: Gateway) -> None:
    specs = _specs("gemini", "huggingface")
    prompts = [f"Stream number {n}: say something about rivers." for n in range(20)]

    async def one(prompt: str) -> tuple[str, str]:
        request = GenerationRequest(prompt=prompt, max_output_tokens=100)
        stream = await open_stream(specs, request, Deadline(time.monotonic() + 60))
        pieces = [piece.text async for piece in stream.pieces() if piece is not None]
        assert stream.generation is not None
        return "".join(pieces), stream.generation.text

    async def run() -> list[tuple[str, str]]:
        return await asyncio.gather(*(one(prompt) for prompt in prompts))

    # When twenty streams run at once on one event loop
    answers = asyncio.run(run())
    # Then each completed, whole, with its own prompt's answer
    for prompt, (streamed, whole) in zip(prompts, answers, strict=True):
        assert streamed == whole
        assert prompt.split(":")[0] in whole
