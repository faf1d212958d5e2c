"""What the control plane costs a request: reading the settings in force, and the writes a key's budget and usage add.

    .venv/bin/python -m bench.control_plane [--processes 4] [--requests 25]

1. `get_settings()`, called many times a request (validators, the chain, the endpoints): the environment's settings as
   before this change (an `lru_cache` hit), the same with no runtime version stored, and with a version in force (a
   clock read and two identity checks; the table is read once per `CONFIG_MAX_AGE_SECONDS`).
2. The route through the real handler in `--processes` separate instances (one moto server behind the AWS fault
   injector, which counts write units per partition key; the provider emulator), `--requests` each: without an API
   key, with a key that has no budget, and with a key whose budget (`daily_usd` and `daily_requests`, far away) is
   enforced by leases. Write units per request on the spend ledger (the key's two scopes) and on the key's usage
   item, and the median latency.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from typing import Any

from dev.emulator import ProviderEmulator
from dev.faulty_stack import FaultyStack, faulty_stack
from dev.instances import Instances, Plan
from dev.lambda_runtime import api_event, invoke, use_layer

KEY = "benchKey0001"
_prompts = itertools.count()


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.control_plane", description=__doc__)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--requests", type=int, default=25)
    args = parser.parse_args()
    with ProviderEmulator() as emulator, faulty_stack(emulator.url) as stack:
        _settings_cost(stack)
        _writes_per_request(stack, args)
    return 0


def _settings_cost(stack: FaultyStack) -> None:
    import os

    use_layer()
    from gateway.config.settings import environment_settings, get_settings

    print("1. get_settings(): ns per call (200,000 calls)")
    saved = dict(os.environ)
    try:
        os.environ.update({**stack.environment(), "CONFIG_MAX_AGE_SECONDS": "30"})
        rows: list[tuple[str, Any]] = [("the environment alone (before: an lru_cache hit)", environment_settings)]
        rows.append(("in force, no runtime version stored", get_settings))
        for label, call in rows:
            get_settings.cache_clear()
            print(f"{label:>52}: {_ns_per_call(call):7.0f}")
        get_settings.cache_clear()
        admin = {"userArn": "arn:aws:iam::1:user/bench"}
        event = api_event("PATCH", "/v1/admin/config", {"AI_PRIMARY_PROVIDER": "vllm"}, headers={"If-Match": "*"},
                          identity=admin)  # fmt: skip
        assert invoke("status", event)["statusCode"] == 200
        get_settings.cache_clear()
        assert get_settings().ai_primary_provider == "vllm"
        print(f"{'in force, a runtime version over the environment':>52}: {_ns_per_call(get_settings):7.0f}")
    finally:
        get_settings.cache_clear()
        os.environ.clear()
        os.environ.update(saved)
    stack.clear()


def _ns_per_call(call: Any, calls: int = 200_000) -> float:
    call()
    started = time.perf_counter_ns()
    for _ in range(calls):
        call()
    return (time.perf_counter_ns() - started) / calls


def _writes_per_request(stack: FaultyStack, args: argparse.Namespace) -> None:
    print(f"\n2. the route, {args.processes} instances x {args.requests} requests: write units per request")
    print(f"{'':>34} {'ledger':>7} {'usage':>7} {'p50 ms':>7}")
    environment = {**stack.environment(), "SLM_MODE": "local", "RETRY_MAX_ATTEMPTS": "1", "CACHE_TTL_SECONDS": "0"}
    for label, key, budget in (
        ("no API key", None, None),
        ("an API key without a budget", KEY, None),
        ("an API key with a budget (far away)", KEY, {"daily_usd": 100.0, "daily_requests": 100000}),
    ):
        stack.clear()
        if budget is not None:
            event = api_event("PUT", f"/v1/admin/keys/{KEY}/budget", budget, identity={"userArn": "bench"})
            _as_instance(stack, lambda event=event: invoke("status", event))
        with Instances(environment, args.processes) as instances:
            plans = [Plan("route", "/v1/route", _bodies(args.requests), api_key_id=key)] * args.processes
            results = instances.run(plans)
            instances.release()
        assert all(r.status == 200 for r in results), {r.status for r in results}
        sent = len(results)
        ledger = stack.injector.count("units:spend-units#") / sent
        usage = stack.injector.count("units:usage#") / sent
        p50 = statistics.median(r.latency_s for r in results) * 1000
        print(f"{label:>34} {ledger:>7.2f} {usage:>7.2f} {p50:>7.1f}")


def _as_instance(stack: FaultyStack, call: Any) -> None:
    """Run `call` in this process with the stack's environment (as an admin's request would reach a function)."""
    import os

    from gateway.config.settings import get_settings

    saved = dict(os.environ)
    try:
        os.environ.update(stack.environment())
        get_settings.cache_clear()
        answer = call()
        assert answer["statusCode"] == 200, answer
    finally:
        get_settings.cache_clear()
        os.environ.clear()
        os.environ.update(saved)


def _bodies(n: int) -> list[dict[str, Any]]:
    return [{"user_id": "b", "prompt": f"Say hello to visitor {next(_prompts)}", "language": "en"} for _ in range(n)]


if __name__ == "__main__":
    raise SystemExit(main())
