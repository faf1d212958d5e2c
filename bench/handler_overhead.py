"""Warm per-request time through the real route handler, beside a bare FastAPI + Mangum floor.

In-process, with the provider emulator answering at once on loopback. Prints p50/p99 of the whole
invocation, of the provider attempt as the gateway measured it, and of the floor, and the ratios.

    .venv/bin/python -m bench.handler_overhead [--requests 300]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any, cast

from fastapi import FastAPI
from mangum import Mangum
from moto import mock_aws

from dev.aws_stack import provision
from dev.emulator import ProviderEmulator
from dev.lambda_runtime import LocalLambdaContext, api_event, load_handler
from dev.local_env import AWS_DUMMY, local_setup


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def timed(call: Callable[[], Any], n: int) -> tuple[list[float], list[Any]]:
    times, results = [], []
    for _ in range(n):
        started = time.perf_counter()
        results.append(call())
        times.append((time.perf_counter() - started) * 1000)
    return times, results


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    os.environ.update(AWS_DUMMY)
    os.environ["POWERTOOLS_METRICS_NAMESPACE"] = "Bench"
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"

    floor_app = FastAPI()

    @floor_app.post("/v1/route")
    def constant() -> dict[str, str]:
        return {"text": "constant"}

    floor = cast(Callable[[dict[str, Any], Any], dict[str, Any]], Mangum(floor_app, lifespan="off"))
    event = api_event("POST", "/v1/route", {"user_id": "bench", "prompt": "hello"})
    context = LocalLambdaContext(function_name="route")

    with mock_aws(), ProviderEmulator() as emulator:
        setup = local_setup({}, emulator.url, provision())
        provision(secret_values=setup.secret_values)
        os.environ.update(setup.environment)
        route = load_handler("route")
        for _ in range(20):  # warm both
            route(event, context)
            floor(event, context)
        sys.stdout.flush()
        devnull = open(os.devnull, "w")  # noqa: SIM115 - the handler's EMF lines would drown the figures
        real_stdout, sys.stdout = sys.stdout, devnull
        try:
            route_ms, answers = timed(lambda: route(event, context), args.requests)
            floor_ms, _ = timed(lambda: floor(event, context), args.requests)
        finally:
            sys.stdout = real_stdout
            devnull.close()
    attempt_ms = [json.loads(a["body"])["attempts"][0]["latency_ms"] for a in answers]
    route_p50, route_p99 = percentiles(route_ms)
    floor_p50, floor_p99 = percentiles(floor_ms)
    attempt_p50, attempt_p99 = percentiles(attempt_ms)
    own = [r - a for r, a in zip(route_ms, attempt_ms, strict=True)]
    own_p50, own_p99 = percentiles(own)
    print(f"requests per series: {args.requests}")
    print(f"route handler, whole invocation   p50 {route_p50:7.2f} ms  p99 {route_p99:7.2f} ms")
    print(f"  of which the provider attempt   p50 {attempt_p50:7.2f} ms  p99 {attempt_p99:7.2f} ms (SDK + loopback)")
    print(f"  the gateway's own time          p50 {own_p50:7.2f} ms  p99 {own_p99:7.2f} ms")
    print(f"bare FastAPI + Mangum floor       p50 {floor_p50:7.2f} ms  p99 {floor_p99:7.2f} ms")
    print(f"gateway's own time above floor    p50 {own_p50 - floor_p50:+7.2f} ms  p99 {own_p99 - floor_p99:+7.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
