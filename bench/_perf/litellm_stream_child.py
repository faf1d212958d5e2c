"""The peer for `bench.streaming`: LiteLLM's `acompletion(stream=True)` in its own virtual environment
(`bench/.venv-litellm`), against the provider emulator's OpenAI-shaped endpoint, beside the same endpoint read directly
by the same process's raw client (`bench._perf.stream_client`), interleaved.

    bench/.venv-litellm/bin/python bench/_perf/litellm_stream_child.py SPEC OUT

SPEC: {"endpoint": ".../v1", "model": "...", "runs": N, "phase": "first" | "chunks"}. OUT: the timings as JSON.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(1, str(REPO_ROOT))

from bench._perf.stream_client import stream_once  # noqa: E402 - after the path

MESSAGES = [{"role": "user", "content": "Explain what a Python generator is in two sentences."}]


async def _litellm_once(litellm: Any, spec: dict[str, Any]) -> tuple[float, float, int]:
    started = time.perf_counter()
    first, pieces = 0.0, 0
    stream = await litellm.acompletion(
        model=f"openai/{spec['model']}", api_base=spec["endpoint"], api_key="sk-bench-not-a-key",
        messages=MESSAGES, stream=True,
    )  # fmt: skip
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            pieces += 1
            if not first:
                first = time.perf_counter() - started
    return first, time.perf_counter() - started, pieces


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    litellm = importlib.import_module("litellm")
    direct_url = spec["endpoint"] + "/chat/completions"
    body = {"model": spec["model"], "messages": MESSAGES}
    rows: dict[str, list[list[float]]] = {"direct": [], "litellm": []}
    loop = asyncio.new_event_loop()
    for number in range(spec["runs"] + 3):  # three warm-ups
        direct = stream_once(direct_url, body, {"Authorization": "Bearer sk-bench-not-a-key"})
        peer = loop.run_until_complete(_litellm_once(litellm, spec))
        if number >= 3:
            rows["direct"].append([direct.first_s, direct.total_s, direct.pieces])
            rows["litellm"].append(list(peer))
    loop.close()
    out = {"version": importlib.import_module("importlib.metadata").version("litellm"), **rows}
    Path(sys.argv[2]).write_text(json.dumps(out))


if __name__ == "__main__":
    main()
