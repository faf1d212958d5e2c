"""What the gateway adds to a streamed answer, beside LiteLLM's `acompletion(stream=True)`, in one run (issue 12).

    .venv/bin/python -m bench.streaming [--runs 60] [--no-litellm]

Everything on loopback: the provider emulator in a child process (its OpenAI-shaped Hugging Face endpoint streams an
answer a few words a piece), the chat function under uvicorn in another (as the web adapter runs it; local mode, no
AWS tables, so no breaker or spend writes), LiteLLM in its own virtual environment (`bench/.venv-litellm`, pinned,
made by `bench.perf` on its first run) in a third.

1. Time to first token: a raw HTTP client (`bench/_perf/stream_client.py`) streams the same request from the
   emulator directly and through the gateway (`model` = the emulator's Hugging Face model: the gateway streams it
   through `huggingface_hub`), interleaved; the gateway's share is its time to the first piece of content less the
   provider's own, per pair, p50 and p90. LiteLLM's is `acompletion(stream=True)` against the same endpoint, less the
   same raw client's time in the same process.
2. Per chunk: the same with a long answer (`CHUNK_WORDS` words, two words a piece): (stream time after the first piece,
   through the gateway, less the provider's own) / pieces. The emulator sends its pieces back to back, so pieces that
   reach the gateway together go out as one event (`events` says how many went out): what a client sees.
3. Per chunk, the gateway's own code alone, in process: pieces one event-loop turn apart (so never merged) through
   the streaming chain's reader (`ChainStream.pieces`), the chat chunk's JSON and the SSE encoding; CPU per piece.

Targets: at most 2 ms added to the first token at p50, at most 50 µs a chunk, and below LiteLLM's on both.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bench._perf.stream_client import StreamTiming, stream_once
from bench.perf import REPO_ROOT, ensure_litellm
from dev.stack_process import free_port

MODEL = "meta-llama/Llama-3.1-8B-Instruct"  # the gateway's Hugging Face model, in its catalogue
MESSAGES = [{"role": "user", "content": "Explain what a Python generator is in two sentences."}]
CHUNK_WORDS = 400  # the long answer: 200 pieces
FIRST_TOKEN_P50_MAX_MS = 2.0
PER_CHUNK_MAX_US = 50.0
LITELLM_CHILD = REPO_ROOT / "bench" / "_perf" / "litellm_stream_child.py"


@contextmanager
def _child(command: list[str], env: dict[str, str], ready: str, timeout_s: float = 60) -> Iterator[str]:
    """A child process, until its output shows `ready` (a regex whose group 1 is returned)."""
    with tempfile.NamedTemporaryFile("w+", suffix=".log") as log:
        process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
        try:
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline:
                found = re.search(ready, Path(log.name).read_text())
                if found:
                    yield found.group(1)
                    break
                if process.poll() is not None:
                    raise RuntimeError(Path(log.name).read_text()[-3000:])
                time.sleep(0.05)
            else:
                raise RuntimeError(f"{command} did not start:\n{Path(log.name).read_text()[-3000:]}")
        finally:
            process.terminate()
            process.wait(timeout=10)


def _gateway_env(emulator: str, port: int) -> dict[str, str]:
    base = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    return {
        **base, "GATEWAY_MODE": "local", "GEMINI_API_KEY": "bench", "HUGGINGFACE_API_KEY": "bench",
        "GEMINI_BASE_URL": emulator, "HF_BASE_URL": emulator, "SLM_MODE": "local", "LOG_LEVEL": "INFO",
        "POWERTOOLS_TRACE_DISABLED": "true", "PYDANTIC_DISABLE_PLUGINS": "__all__",  # logs and metrics as deployed
        "HF_HUB_DISABLE_TELEMETRY": "1", "AWS_DEFAULT_REGION": "us-east-1", "CHAT_PORT": str(port),
    }  # fmt: skip


_SERVE = """
import os, uvicorn
from dev.chat_server import chat_app
print("serving", flush=True)
uvicorn.run(chat_app(), host="127.0.0.1", port=int(os.environ["CHAT_PORT"]), log_level="warning",
            access_log=False, lifespan="off")
"""


def _pairs(gateway_url: str, emulator: str, runs: int) -> tuple[list[StreamTiming], list[StreamTiming]]:
    body = {"model": MODEL, "messages": MESSAGES}
    direct, through = [], []
    for number in range(runs + 3):  # three warm-ups
        provider = stream_once(f"{emulator}/v1/chat/completions", body, {"Authorization": "Bearer bench"})
        gateway = stream_once(f"{gateway_url}/v1/chat/completions", body, {"Authorization": "Bearer bench"})
        if number >= 3:
            direct.append(provider)
            through.append(gateway)
    return direct, through


def _added_first_ms(direct: list[StreamTiming], through: list[StreamTiming]) -> list[float]:
    return [(t.first_s - d.first_s) * 1000 for d, t in zip(direct, through, strict=True)]


def _per_chunk_us(direct: list[StreamTiming], through: list[StreamTiming]) -> list[float]:
    return [
        ((t.total_s - t.first_s) - (d.total_s - d.first_s)) / max(1, d.pieces - 1) * 1e6
        for d, t in zip(direct, through, strict=True)
    ]


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _own_code_us(pieces: int = 20000) -> float:
    """The gateway's per-piece code, in process: a provider stream whose pieces are one loop turn apart."""
    from fastapi.sse import format_sse_event

    from dev.lambda_runtime import use_layer

    use_layer()
    import asyncio
    import types

    from gateway.core.deadline import Deadline
    from gateway.endpoints import chat
    from gateway.endpoints.chat_models import ChatCompletionRequest
    from gateway.providers.base import Delta, Generation, ProviderSpec
    from gateway.resilience.breaker import Admission
    from gateway.resilience.streaming import ChainStream, OpenedStream, _Pump

    async def provider() -> Any:
        for _ in range(pieces):
            await asyncio.sleep(0)  # one loop turn: the reader is waiting, nothing is merged
            yield Delta("two words ")
        yield Delta(finish_reason="stop", usage=Generation("", 10, pieces))

    async def ended(*args: Any, **kwargs: Any) -> None:
        return None

    async def run() -> float:
        spec = ProviderSpec("huggingface", MODEL, "http://x", 20000, "k", True)
        steps = types.SimpleNamespace(deadline=Deadline(time.monotonic() + 600), attempts=[], stream_ended=ended,
                                      stream_failed=ended, stream_abandoned=ended)  # fmt: skip
        body = ChatCompletionRequest.model_validate({"model": MODEL, "messages": MESSAGES, "stream": True})
        plan = types.SimpleNamespace(created=0, body=body)
        chunks = chat._Chunks(plan, spec, "bench")  # type: ignore[arg-type]
        pump = _Pump(provider())
        first = await pump.next(None)
        assert first is not None
        stream = ChainStream(steps, spec, OpenedStream([first], pump), None, Admission.ALLOW, 0.0)
        started = time.process_time()
        async for piece in stream.pieces(15.0):
            if piece is not None and piece.text:
                format_sse_event(data_str=chunks.delta(piece.text, ()))
        return (time.process_time() - started) / pieces * 1e6

    bare = asyncio.run(_loop_turns(pieces))
    return asyncio.run(run()) - bare


async def _loop_turns(pieces: int) -> float:
    """The same number of loop turns with nothing in them: the floor that `_own_code_us` subtracts."""
    import asyncio

    started = time.process_time()
    for _ in range(pieces):
        await asyncio.sleep(0)
    return (time.process_time() - started) / pieces * 1e6


def _litellm(emulator: str, runs: int, python: Path) -> dict[str, list[list[float]]] | None:
    with tempfile.TemporaryDirectory() as scratch:
        spec, out = Path(scratch) / "spec.json", Path(scratch) / "out.json"
        spec.write_text(json.dumps({"endpoint": f"{emulator}/v1", "model": MODEL, "runs": runs}))
        env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_LOG": "ERROR"}
        done = subprocess.run([str(python), str(LITELLM_CHILD), str(spec), str(out)], env=env, cwd=REPO_ROOT,
                              capture_output=True, text=True, timeout=900, check=False)  # fmt: skip
        if done.returncode != 0:
            print(f"LiteLLM's run failed; its figures are skipped:\n{done.stderr[-2000:]}")
            return None
        result: dict[str, list[list[float]]] = json.loads(out.read_text())
        return result


def _timings(rows: list[list[float]]) -> list[StreamTiming]:
    return [StreamTiming(first, total, int(pieces)) for first, total, pieces in rows]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.streaming", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--no-litellm", action="store_true")
    args = parser.parse_args(argv)
    python = None if args.no_litellm else ensure_litellm()
    emulator_port, chat_port = free_port(), free_port()
    emulator_cmd = [sys.executable, "-m", "dev.emulator", "--port", str(emulator_port)]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    with _child(emulator_cmd, env, r"listening on (http://\S+)") as emulator, _child(
        [sys.executable, "-c", _SERVE], {**_gateway_env(emulator, chat_port), "PYTHONPATH": str(REPO_ROOT)}, "(serving)"
    ):  # fmt: skip
        gateway = f"http://127.0.0.1:{chat_port}"
        for _ in range(100):  # uvicorn binds after the import
            try:
                httpx.get(f"{gateway}/v1/models", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        results: dict[str, dict[str, list[float]]] = {}
        for phase in ("first", "chunks"):
            httpx.delete(f"{emulator}/__emulator/faults")
            if phase == "chunks":
                long_text = " ".join(f"word{n}" for n in range(CHUNK_WORDS))
                fault = {"provider": "huggingface", "kind": "body", "body": long_text}
                httpx.post(f"{emulator}/__emulator/faults", json=fault)
            direct, through = _pairs(gateway, emulator, args.runs)
            peer = _litellm(emulator, args.runs, python) if python is not None else None
            results[phase] = {
                "gateway": _added_first_ms(direct, through) if phase == "first" else _per_chunk_us(direct, through),
                "pieces": [float(d.pieces) for d in direct],
                "events": [float(t.pieces) for t in through],
            }
            if peer is not None:
                own, lite = _timings(peer["direct"]), _timings(peer["litellm"])
                results[phase]["litellm"] = _added_first_ms(own, lite) if phase == "first" else _per_chunk_us(own, lite)
    results["own"] = {"gateway": [_own_code_us()]}
    _report(results, args.runs, python)
    return 0


def _report(results: dict[str, dict[str, list[float]]], runs: int, python: Path | None) -> None:
    version = ""
    if python is not None:
        found = subprocess.run([str(python), "-c", "import importlib.metadata as m; print(m.version('litellm'))"],
                               capture_output=True, text=True, check=False)  # fmt: skip
        version = found.stdout.strip()
    pieces, events = statistics.median(results["chunks"]["pieces"]), statistics.median(results["chunks"]["events"])
    print(f"streamed answers on loopback, {runs} interleaved pairs each (after 3 warm-ups); LiteLLM {version or '-'}")
    print(f"long answer: {pieces:.0f} pieces from the provider, back to back; {events:.0f} events out of the gateway")
    print("`added` = through it, less the provider's own (the same raw client)\n")
    print(f"{'':28}{'gateway p50':>12}{'p90':>10}{'LiteLLM p50':>13}{'p90':>10}{'ratio p50':>11}")
    rows = (
        ("first token, added (ms)", "first", FIRST_TOKEN_P50_MAX_MS),
        ("per chunk, added (µs)", "chunks", PER_CHUNK_MAX_US),
        ("per chunk, own code (µs CPU)", "own", PER_CHUNK_MAX_US),
    )
    verdicts = []
    for label, phase, target in rows:
        gateway = results[phase]["gateway"]
        peer = results[phase].get("litellm")
        g50, g90 = _p(gateway, 0.5), _p(gateway, 0.9)
        line = f"{label:28}{g50:>12.2f}{g90:>10.2f}"
        if peer:
            p50, p90 = _p(peer, 0.5), _p(peer, 0.9)
            ratio = f"{p50 / g50:.1f}x" if g50 > 0 else "-"
            line += f"{p50:>13.2f}{p90:>10.2f}{ratio:>11}"
            verdicts.append(f"{label}: below LiteLLM's {'pass' if g50 < p50 else 'MISS'} ({g50:.2f} vs {p50:.2f})")
        print(line)
        verdicts.insert(0, f"{label}: p50 <= {target:g} {'pass' if g50 <= target else 'MISS'} ({g50:.2f})")
    print("\n" + "\n".join(verdicts))


if __name__ == "__main__":
    raise SystemExit(main())
