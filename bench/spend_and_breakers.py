"""Where the shared state stops scaling: the spend cap and the breaker, today's design beside the new one, in one run.

    .venv/bin/python -m bench.spend_and_breakers [--processes 4] [--scale 0.02] [--seconds 4] [--rates 2,5,10,25,50]

Each instance is its own process (`--processes`), sharing one moto server behind the AWS fault injector, whose
capacity model limits each partition key to DynamoDB's 1,000 write and 3,000 read units a second times `--scale`
(0.02: 20 and 60), so that a laptop reaches the limit; the ratio is what matters, and the figures are also given
scaled back to DynamoDB's. Each process sends requests at a fixed rate through the same interface a streaming
caller uses (reserve, a provider call that costs half its worst case, settle, and the end-of-request step), and one
request at a time, as a Lambda instance does.

1. Spend cap, at rising rates, with a cap far away: requests per second each design sustains on one cap, per write
   unit the cap's item allows (today: a `TransactWriteItems` on the day's items and a settle per request; leases:
   one conditional write per slice), writes that were throttled, and calls refused as if the cap were reached.
2. Spend cap at the cut-off: a cap of `--cap-calls` worst cases, every process sending until refused: overshoot (in
   worst cases) and the budget left unused when the last instance is refused (after every lease is given back).
3. Breaker during an outage (every call fails, the circuit never opens: the threshold is out of reach): writes per
   second per instance on the breaker's item, and how many were throttled. Today: a write per failure; the new
   board: at most one a `BREAKER_FLUSH_MS` (500).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from dev.aws_faults import Capacity
from dev.faulty_stack import FaultyStack, faulty_stack
from dev.lambda_runtime import REPO_ROOT, use_layer

MODEL = "gemini-2.5-flash"
DESIGNS = ("today", "leases")


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.spend_and_breakers", description=__doc__)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--scale", type=float, default=0.02)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rates", default="2,5,10,25,50", help="requests per second per process, rising")
    parser.add_argument("--cap-calls", type=int, default=200)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return _worker(json.loads(args.worker))
    rates = [float(r) for r in args.rates.split(",")]
    limit = 1000 * args.scale
    with faulty_stack("http://127.0.0.1:9") as stack:
        stack.injector.set_capacity(Capacity.scaled(args.scale))
        print(f"capacity model: {limit:g} write units/s per partition key (DynamoDB's 1,000 x {args.scale:g}); "
              f"{args.processes} processes, {args.seconds:g} s a step")  # fmt: skip
        _throughput(stack, args, rates, limit)
        _cut_off(stack, args)
        _breaker(stack, args, rates)
    return 0


def _throughput(stack: FaultyStack, args: argparse.Namespace, rates: list[float], limit: float) -> None:
    print("\n1. spend cap at rising rates (a cap far away): sustained requests/s on one cap")
    print(f"{'offered':>8} | {'design':>6} {'sustained':>9} {'per unit':>8} {'~DynamoDB':>9} {'writes/req':>10} "
          f"{'throttled':>9} {'refused':>7} {'p99 ms':>7}")  # fmt: skip
    for rate in rates:
        for design in DESIGNS:
            stack.clear()
            stack.injector.set_capacity(Capacity.scaled(args.scale))
            results = _run(stack, args, {"mode": design, "rate": rate, "seconds": args.seconds, "cap": 1e6})
            admitted = sum(r["admitted"] for r in results)
            sustained = admitted / args.seconds
            writes = stack.injector.count("units:") / max(1, sum(r["sent"] for r in results))
            throttled = stack.injector.count("throttled:")
            refused = sum(r["refused"] for r in results)
            p99 = _p99([ms for r in results for ms in r["latencies_ms"]])
            figures = f"{sustained / limit * 1000:>9.0f} {writes:>10.2f} {throttled:>9} {refused:>7} {p99:>7.1f}"
            print(f"{rate * args.processes:>8g} | {design:>6} {sustained:>9.1f} {sustained / limit:>8.2f} {figures}")


def _cut_off(stack: FaultyStack, args: argparse.Namespace) -> None:
    use_layer()
    from gateway.providers.base import GenerationRequest
    from gateway.resilience.spend import worst_case_cost

    worst = worst_case_cost(MODEL, _request(GenerationRequest))
    cap = args.cap_calls * worst
    per_process = int(args.cap_calls / args.processes * 2.5)
    print(
        f"\n2. spend cap at the cut-off: a cap of {args.cap_calls} worst cases, each process asking for {per_process}"
    )
    print(f"{'design':>6} {'spent':>8} {'overshoot':>9} {'unused':>7} {'refused':>8}   (all but refused: worst cases)")
    for design in DESIGNS:
        stack.clear()
        stack.injector.set_capacity(Capacity.scaled(args.scale))
        job = {"mode": design, "rate": 1000.0, "count": per_process, "cap": cap, "release": True}
        results = _run(stack, args, job)
        spent = sum(r["spent"] for r in results)
        refused = sum(r["refused"] for r in results)
        print(f"{design:>6} {spent / worst:>8.2f} {max(0.0, spent - cap) / worst:>9.2f} "
              f"{max(0.0, cap - spent) / worst:>7.2f} {refused:>8}")  # fmt: skip


def _breaker(stack: FaultyStack, args: argparse.Namespace, rates: list[float]) -> None:
    print("\n3. breaker during an outage (every call fails): writes/s per instance on the breaker's item")
    print(f"{'offered':>8} | {'today':>6} {'throttled':>9} | {'counted':>7} {'throttled':>9}")
    for rate in rates:
        row = []
        for flush_ms in (0, 500):
            stack.clear()
            stack.injector.set_capacity(Capacity.scaled(args.scale))
            _run(stack, args, {"mode": "breaker", "rate": rate, "seconds": args.seconds, "flush_ms": flush_ms})
            writes = stack.injector.count("units:breaker#") / args.seconds / args.processes
            row.append(f"{writes:>6.1f} {stack.injector.count('throttled:'):>9}")
        print(f"{rate * args.processes:>8g} | {row[0]} | {row[1]:>17}")


def _run(stack: FaultyStack, args: argparse.Namespace, job: dict[str, Any]) -> list[dict[str, Any]]:
    env = {**{k: os.environ[k] for k in ("PATH", "HOME") if k in os.environ}, **stack.environment()}
    env.update(PYTHONPATH=str(REPO_ROOT), POWERTOOLS_LOG_LEVEL="CRITICAL", POWERTOOLS_METRICS_DISABLED="true")
    start_at = time.time() + 2.5  # every process imported before the first request
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "bench.spend_and_breakers", "--worker", json.dumps({**job, "start_at": start_at})],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(args.processes)
    ]
    return [json.loads(child.communicate()[0].strip().splitlines()[-1]) for child in children]


def _request(make: Callable[..., Any]) -> Any:
    return make("Say hello in one short sentence, please.", "You are a helpful, precise assistant.", 256)


def _worker(job: dict[str, Any]) -> int:
    """One instance: requests at `rate` for `seconds` (or `count` of them), one at a time."""
    use_layer()
    from bench._legacy_spend import LegacySpend
    from gateway.config.settings import load_settings
    from gateway.core.catalogue import cost_usd
    from gateway.providers.base import Generation, GenerationRequest, Outcome, ProviderSpec
    from gateway.resilience.breaker import BreakerBoard, BreakerConfig
    from gateway.resilience.spend import SpendGuard, SpendRefusedError, worst_case_cost
    from gateway.stores.breakers import BreakerStore
    from gateway.stores.spend_ledger import SpendLedgerStore

    table = os.environ["PROVIDER_STATE_TABLE"]
    spec = ProviderSpec("gemini", MODEL, "http://127.0.0.1:9", 20000, "key", configured=True)
    request = _request(GenerationRequest)
    worst = worst_case_cost(MODEL, request)
    half = Generation("answer", input_tokens=(len((request.prompt + request.system).encode()) + 64) // 2,
                      output_tokens=request.max_output_tokens // 2)  # fmt: skip
    actual = cost_usd(MODEL, half.input_tokens, half.output_tokens) or 0.0
    mode = job["mode"]
    settings = load_settings({"PROVIDER_STATE_TABLE": table, "AI_DAILY_COST_LIMIT": str(job.get("cap", 1e6))})
    guard = SpendGuard(SpendLedgerStore(table), settings)
    legacy = LegacySpend(table, {"all": float(job.get("cap", 1e6)), "gemini": 1e9})
    config = BreakerConfig(failure_threshold=10**9, cache_s=1.0, flush_s=job.get("flush_ms", 0) / 1000)
    board = BreakerBoard(BreakerStore(table), config)
    stats: dict[str, Any] = {"sent": 0, "admitted": 0, "refused": 0, "spent": 0.0, "latencies_ms": []}
    count = job.get("count") or int(job["rate"] * job["seconds"])
    time.sleep(max(0.0, job["start_at"] - time.time()))
    started = time.time()
    for number in range(count):
        wait = started + number / job["rate"] - time.time()
        if wait > 0:
            time.sleep(wait)
        if job.get("seconds") and time.time() - started > job["seconds"]:
            break
        stats["sent"] += 1
        began = time.perf_counter()
        try:
            if mode == "breaker":
                board.load([spec])
                board.on_failure(spec, Outcome.SERVER_ERROR, "HTTP 503", None, board.admit(spec))
                board.flush()
                continue
            if mode == "today":
                reservation = legacy.reserve(worst)
                if reservation is None:
                    stats["refused"] += 1
                    continue
                legacy.settle(reservation, actual)
            else:
                try:
                    leased = guard.reserve(spec, request)
                except SpendRefusedError:
                    stats["refused"] += 1
                    continue
                guard.settle(leased, half)
                guard.release(everything=False)  # the end of the request (`Resilience.finish`)
            stats["admitted"] += 1
            stats["spent"] += actual
        except Exception:
            stats["refused"] += 1
        finally:
            stats["latencies_ms"].append((time.perf_counter() - began) * 1000)
    if job.get("release") and mode == "leases":
        guard.release()
    print(json.dumps(stats))
    return 0


def _p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98] if len(values) >= 2 else (values[0] if values else 0.0)


if __name__ == "__main__":
    raise SystemExit(main())
