"""The OpenAI-compatible API through `make run`'s stack (`python -m dev.run_local` in a child process): the base URL is
the local API's own (`http://127.0.0.1:<port>/v1`, 3000 under `make run`), the chat function is served by uvicorn
behind it, and a streamed answer arrives piece by piece, as it is produced."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from openai import OpenAI

from dev.stack_process import LocalStackProcess

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStackProcess]:
    with LocalStackProcess() as running:
        yield running


def test_the_openai_sdk_works_with_the_base_url_alone(stack: LocalStackProcess) -> None:
    # Given the SDK pointed at the local stack with no other setting
    client = OpenAI(base_url=f"{stack.url}/v1", api_key="local", max_retries=0)
    # When it asks, whole and streamed
    whole = client.chat.completions.create(model="auto", messages=[{"role": "user", "content": "Say hi to Ada"}])
    chunks = list(
        client.chat.completions.create(
            model="gemini-2.5-flash", messages=[{"role": "user", "content": "Say hi to Ada"}], stream=True
        )
    )
    # Then both answer, the stream in several chunks
    assert "Say hi to Ada" in (whole.choices[0].message.content or "")
    assert sum(1 for c in chunks if c.choices and c.choices[0].delta.content) > 1
    assert next(m.id for m in client.models.list()) == "auto"


def test_a_stream_arrives_as_it_is_produced_through_the_local_api(stack: LocalStackProcess) -> None:
    # Given Gemini silent for 2 s after its first chunk (then it drops the connection)
    httpx.post(f"{stack.emulator_url}/__emulator/faults", json={
        "provider": "gemini", "kind": "stall", "after_chunks": 1, "delay_s": 2.0, "times": 1})  # fmt: skip
    body = {"model": "gemini-2.5-flash", "stream": True, "messages": [{"role": "user", "content": "Say hi to Ada"}]}
    started = time.monotonic()
    arrivals: list[tuple[float, str]] = []
    # When the client reads the stream through the local API's port
    with httpx.stream("POST", f"{stack.url}/v1/chat/completions", json=body, timeout=30) as response:
        for line in response.iter_lines():
            if line.startswith("data: "):
                arrivals.append((time.monotonic() - started, line))
    # Then the first chunk came long before the error that ends the broken answer: nothing was buffered
    first_content = next(at for at, line in arrivals if '"content"' in line and '"role"' not in line)
    assert arrivals[-1][1].startswith('data: {"error"')
    assert arrivals[-1][0] - first_content > 1.5  # the 2 s silence lies between them
