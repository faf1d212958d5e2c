"""Lambda instances as separate processes: each its own Python interpreter running one function's real handler.

The gateway's promises (a cap no concurrency overshoots, one breaker for every instance) span instances, and an
instance is a process: its caches, leases and counters are its own; only AWS is shared. So the multi-process
tests and `bench/` run each instance as a child interpreter that shares one moto server behind the AWS fault
injector (`dev.faulty_stack`) and the provider emulator:

    results = run_instances(stack.environment(), [Plan("route", "/v1/route", bodies)] * 4)

Each child waits for the common start time, then answers its plan's requests one after the other (one at a time,
as a Lambda instance does), at most one every `interval_s`, and writes what each answer was. Dev and tests only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from dev.lambda_runtime import REPO_ROOT


@dataclass(frozen=True)
class Plan:
    """What one instance does: `bodies` sent as API Gateway events to `path` of `function`."""

    function: str
    path: str
    bodies: list[dict[str, Any]]
    interval_s: float = 0.0
    headers: dict[str, str] = field(default_factory=lambda: {"Cache-Control": "no-cache"})
    release_at_end: bool = True  # return what the instance holds (spend leases, breaker counts), as at its end


@dataclass(frozen=True)
class Result:
    """One answer: its status, error code, provider, attempts and cost, and when it started (s after the start)."""

    instance: int
    status: int
    code: str | None
    provider: str | None
    attempts: list[dict[str, Any]]
    cost_usd: float
    started_s: float
    latency_s: float


def run_instances(
    environment: dict[str, str], plans: list[Plan], *, start_in_s: float = 3.0, timeout_s: float = 120.0
) -> list[Result]:
    """Run each plan in its own interpreter, all starting together `start_in_s` from now; every answer, in order."""
    start_at = time.time() + start_in_s
    with tempfile.TemporaryDirectory(prefix="instances-") as folder:
        children = []
        for number, plan in enumerate(plans):
            spec = Path(folder) / f"plan-{number}.json"
            out = Path(folder) / f"out-{number}.json"
            spec.write_text(json.dumps({"plan": asdict(plan), "start_at": start_at, "instance": number}))
            env = {**_kept(), **environment, "PYTHONPATH": str(REPO_ROOT), "POWERTOOLS_LOG_LEVEL": "CRITICAL"}
            process = subprocess.Popen(
                [sys.executable, "-m", "dev.instances", str(spec), str(out)],
                cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            )  # fmt: skip
            children.append((process, out))
        results: list[Result] = []
        failures = []
        for process, out in children:
            try:
                _, stderr = process.communicate(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                process.kill()
                _, stderr = process.communicate()
            if process.returncode != 0 or not out.exists():
                failures.append(f"instance exited {process.returncode}:\n{stderr[-3000:]}")
                continue
            results.extend(Result(**item) for item in json.loads(out.read_text()))
        if failures:
            raise RuntimeError("\n".join(failures))
    return results


def _kept() -> dict[str, str]:
    return {name: os.environ[name] for name in ("PATH", "HOME", "LANG", "TMPDIR") if name in os.environ}


def _serve(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """One instance: wait for the start, answer the plan's requests, release what it holds."""
    from dev.lambda_runtime import LocalLambdaContext, api_event, invoke, use_layer

    use_layer()
    plan = Plan(**spec["plan"])
    instance = int(spec["instance"])
    invoke(plan.function, api_event("GET", "/health"))  # the cold start, before the clock starts
    time.sleep(max(0.0, spec["start_at"] - time.time()))
    started = time.time()
    results = []
    for number, body in enumerate(plan.bodies):
        wait = started + number * plan.interval_s - time.time()
        if wait > 0:
            time.sleep(wait)
        begun = time.time()
        event = api_event("POST", plan.path, body, headers=plan.headers)
        raw = invoke(plan.function, event, LocalLambdaContext(function_name=plan.function))
        results.append(_result(instance, raw, begun - started, time.time() - begun))
    if plan.release_at_end:
        _release()
    return results


def _result(instance: int, raw: dict[str, Any], started_s: float, latency_s: float) -> dict[str, Any]:
    body = json.loads(raw.get("body") or "null")
    error = body.get("error") if isinstance(body, dict) else None
    attempts = (error.get("details") or {}).get("attempts", []) if error else body.get("attempts", [])
    usage = body.get("usage") if isinstance(body, dict) and not error else None
    return asdict(
        Result(
            instance=instance,
            status=int(raw["statusCode"]),
            code=error.get("code") if error else None,
            provider=body.get("provider") if not error else None,
            attempts=attempts,
            cost_usd=float((usage or {}).get("cost_usd") or 0.0),
            started_s=round(started_s, 4),
            latency_s=round(latency_s, 4),
        )
    )


def _release() -> None:
    """What an instance holds when it ends (a Lambda extension's shutdown hook would do the same)."""
    from gateway.config.settings import get_settings
    from gateway.resilience.guards import resilience_for

    guards = resilience_for(get_settings())
    for guard in (guards.spend, guards.breakers):
        release = getattr(guard, "release", None)
        if release is not None:
            release()


def main(argv: list[str]) -> int:
    spec = json.loads(Path(argv[0]).read_text())
    results = _serve(spec)
    Path(argv[1]).write_text(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
