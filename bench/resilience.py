"""The cost of resilience: one fallback hop, and skipping a provider whose circuit is open.

In-process, against moto (the template's state table) and the provider emulator answering at once.
Measured on the chain, the gateway's routing core, in interleaved rounds so drift hits every series:
  direct      Gemini alone answers
  hop         the sLM fails at once (503), then Gemini answers; the hop's cost is this minus direct,
              minus the failed sLM call's own time (as its attempt records it)
  skip        the sLM's circuit is open (its state already read), then Gemini answers
Targets (issue 3): a hop adds at most 2 ms of the gateway's own time; a skip at most 0.5 ms.

    .venv/bin/python -m bench.resilience [--rounds 300]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from dataclasses import replace

from moto import mock_aws

from dev.aws_stack import provision
from dev.emulator import ProviderEmulator
from dev.lambda_runtime import use_layer
from dev.local_env import AWS_DUMMY, local_setup


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()
    os.environ.update(AWS_DUMMY)
    os.environ["POWERTOOLS_LOG_LEVEL"] = "ERROR"
    use_layer()
    with mock_aws(), ProviderEmulator() as emulator, ProviderEmulator() as failing:
        failing.fail("slm", "status", status=503)
        setup = local_setup({}, emulator.url, provision())
        provision(secret_values=setup.secret_values)
        os.environ.update(setup.environment)
        os.environ["RETRY_MAX_ATTEMPTS"] = "1"
        os.environ["BREAKER_FAILURE_THRESHOLD"] = "1000000000"  # the hop series must never open the circuit
        asyncio.run(_measure(f"{failing.url}/generate", args.rounds))
    return 0


async def _measure(failing_slm_url: str, rounds: int) -> None:
    from gateway.config.keys import load_provider_keys
    from gateway.config.settings import get_settings
    from gateway.core.deadline import Deadline
    from gateway.providers import registry
    from gateway.providers.base import GenerationRequest, ProviderSpec
    from gateway.resilience.breaker import BreakerBoard, BreakerConfig
    from gateway.resilience.chain import run_chain
    from gateway.resilience.guards import Resilience, resilience_for
    from gateway.stores.breakers import BreakerStore, breaker_key

    settings = get_settings()
    keys = load_provider_keys(settings)
    slm, gemini = registry.spec("slm", settings, keys), registry.spec("gemini", settings, keys)
    failing_slm = replace(slm, base_url=failing_slm_url)  # an emulator of its own that answers 503 at once
    hop_guards = resilience_for(settings)
    # The skip series: a board whose cache holds the sLM's open circuit (its state already read).
    store = BreakerStore(settings.state_table or "")
    store.open(breaker_key(slm.name, slm.model), time.time() + 3600, time.time())
    skip_board = BreakerBoard(store, replace(BreakerConfig.from_settings(settings), cache_s=3600.0))
    skip_board.load([slm, gemini])
    skip_guards = Resilience(hop_guards.retry, skip_board, hop_guards.spend)

    request = GenerationRequest(prompt="hello", max_output_tokens=64)

    async def once(specs: list[ProviderSpec], guards: Resilience) -> float:
        """The gateway's own time: the chain's wall time less every provider call (as attempts record them)."""
        started = time.perf_counter()
        result = await run_chain(specs, request, str, Deadline.for_request(None), resilience=guards)
        total = (time.perf_counter() - started) * 1000
        return total - sum(a.latency_ms for a in result.attempts)

    for _ in range(30):  # warm every path
        await once([gemini], hop_guards)
        await once([failing_slm, gemini], hop_guards)
        await once([slm, gemini], skip_guards)
    direct: list[float] = []
    hop: list[float] = []
    skip: list[float] = []
    for _ in range(rounds):
        direct.append(await once([gemini], hop_guards))
        hop.append(await once([failing_slm, gemini], hop_guards))
        skip.append(await once([slm, gemini], skip_guards))
    d, h, s = statistics.median(direct), statistics.median(hop), statistics.median(skip)
    print(f"rounds: {rounds}; the gateway's own time per request (median ms; provider calls excluded)")
    print(f"direct: Gemini answers                  {d:7.3f}")
    print(f"hop: the sLM fails, Gemini answers      {h:7.3f}   a fallback hop adds {h - d:+.3f} ms (target <= 2)")
    print(f"skip: the sLM's circuit is open         {s:7.3f}   skipping adds {s - d:+.3f} ms (target <= 0.5)")


if __name__ == "__main__":
    raise SystemExit(main())
