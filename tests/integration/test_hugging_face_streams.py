"""A warm instance streams Hugging Face answers without end: memory stays flat, and a stream that outlives its
client's turn still ends whole (huggingface_hub keeps every streamed response until its client closes)."""

from __future__ import annotations

import asyncio
import gc
import tracemalloc

from dev.emulator import ProviderEmulator
from gateway.providers.base import GenerationRequest
from gateway.providers.huggingface import HuggingFaceProvider

REQUEST = GenerationRequest(prompt="Say something short about streams.", max_output_tokens=50)
MODEL = "meta-llama/Llama-3.1-8B-Instruct"


def _provider(emulator: ProviderEmulator, streams_per_client: int) -> HuggingFaceProvider:
    return HuggingFaceProvider(
        api_key="hf_test", model=MODEL, base_url=emulator.url, timeout_ms=5000, streams_per_client=streams_per_client
    )


async def _text(provider: HuggingFaceProvider) -> str:
    return "".join([piece.text async for piece in provider.stream(REQUEST)])


def test_memory_stays_flat_over_many_streams(emulator: ProviderEmulator) -> None:
    # Given one provider, as a warm instance keeps it, whose client is replaced every 20 streams
    provider = _provider(emulator, streams_per_client=20)

    async def grown_kib() -> float:
        for _ in range(40):
            assert await _text(provider)
        gc.collect()
        before = tracemalloc.take_snapshot()
        # When it streams 100 more answers (the same point in its clients' turns at both snapshots)
        for _ in range(100):
            assert await _text(provider)
        gc.collect()
        after = tracemalloc.take_snapshot()
        return sum(stat.size_diff for stat in after.compare_to(before, "filename")) / 1024

    tracemalloc.start()
    try:
        grown = asyncio.run(grown_kib())
    finally:
        tracemalloc.stop()
    # Then what it holds did not grow with them (a client kept for all of them held ~16 KB more per stream: 1.6 MB)
    assert grown < 400, f"{grown:.0f} KiB more after 100 streams"


def test_a_stream_open_when_its_client_is_replaced_ends_whole(emulator: ProviderEmulator) -> None:
    # Given a stream that has given its first piece on a client that serves 3 streams
    provider = _provider(emulator, streams_per_client=3)

    async def run() -> tuple[str, str, list[str]]:
        held = provider.stream(REQUEST)
        first = await anext(held)
        # When more streams than its client serves run meanwhile (its client is replaced)
        others = [await _text(provider) for _ in range(7)]
        rest = "".join([piece.text async for piece in held])
        return first.text + rest, await _text(provider), others

    whole, later, others = asyncio.run(run())
    # Then the held stream still ends whole, as do the others and the one after
    assert whole == later
    assert others == [later] * 7


def test_whole_answers_and_streams_at_once_all_complete_across_client_turns(emulator: ProviderEmulator) -> None:
    # Given a provider whose client serves 2 streams
    provider = _provider(emulator, streams_per_client=2)

    async def run() -> tuple[list[str], list[str]]:
        # When whole answers and streams run at once, its client replaced several times under them
        whole = asyncio.gather(*(provider.generate(REQUEST) for _ in range(6)))
        streamed = asyncio.gather(*(_text(provider) for _ in range(8)))
        answers, texts = await asyncio.gather(whole, streamed)
        return [answer.text for answer in answers], texts

    whole, streamed = asyncio.run(run())
    # Then every one of them completed with the same answer
    assert len(set(whole + streamed)) == 1
    assert whole[0]
