"""The paths of a route request, in one warm handler process (the `paths` mode of `handler_child.py`): what each
asks of AWS and how long it runs, for the round trips and the bill per million requests in `bench.perf`.

Paths: `miss` (a new prompt: the provider answers), `hit` (a prompt answered before: the cache answers),
`fallback` (the sLM answers 503, Gemini answers; the breaker is told not to open, so every request takes this
path), `sampled` (temperature above zero: no cache call), `job` (`POST /v1/jobs`, then the SQS event that answers
it: two invocations, both counted).

Every AWS API call is recorded with its start and end (botocore's `BaseClient._make_api_call`, on every thread)
and every provider call likewise (the chain's `get_provider`, wrapped). Round trips before the provider are the
calls that started before the first provider call, counted as one when they overlap in time (a batch of reads made
together is one round trip); after it, those that started after the last provider call ended. Calls made while a
provider was answering are counted apart. Standard library only (the child imports nothing before the handler).
"""

from __future__ import annotations

import io
import json
import os
import statistics
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from typing import Any

Interval = tuple[float, float]


class Recorder:
    """AWS calls (operation, service, start, end, capacity units) and provider calls (start, end), per request."""

    def __init__(self) -> None:
        self.aws: list[dict[str, Any]] = []
        self.providers: list[Interval] = []
        self._lock = threading.Lock()

    def take(self) -> tuple[list[dict[str, Any]], list[Interval]]:
        with self._lock:
            aws, providers = self.aws, self.providers
            self.aws, self.providers = [], []
        return aws, providers

    def patch_botocore(self) -> None:
        from botocore import client as botocore_client

        base: Any = botocore_client.BaseClient
        original = base._make_api_call
        recorder = self

        def recorded(client: Any, operation: str, params: dict[str, Any]) -> Any:
            started = time.perf_counter()
            try:
                return original(client, operation, params)
            finally:
                service = client.meta.service_model.service_name
                call = {"service": service, "operation": operation, "start": started, "end": time.perf_counter()}
                call.update(capacity(service, operation, params))
                with recorder._lock:
                    recorder.aws.append(call)

        base._make_api_call = recorded

    def patch_providers(self) -> None:
        from gateway.resilience import chain as chain_module

        chain: Any = chain_module
        original = chain.get_provider
        recorder = self

        def get_provider(spec: Any) -> Any:
            provider = original(spec)
            return _TimedProvider(provider, recorder)

        chain.get_provider = get_provider


class _TimedProvider:
    def __init__(self, provider: Any, recorder: Recorder) -> None:
        self._provider = provider
        self._recorder = recorder

    async def generate(self, request: Any) -> Any:
        started = time.perf_counter()
        try:
            return await self._provider.generate(request)
        finally:
            with self._recorder._lock:
                self._recorder.providers.append((started, time.perf_counter()))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._provider, name)


def _item_kb(item: Any) -> float:
    """An item's size as DynamoDB counts it (attribute names and values), approximated by its JSON text."""
    return len(json.dumps(item, default=str)) / 1024


def capacity(service: str, operation: str, params: dict[str, Any]) -> dict[str, float]:
    """The request units a DynamoDB call is billed (writes per started KB, reads per started 4 KB of the item
    asked for, here assumed under 4 KB: the gateway's items are), and the SQS and Secrets Manager requests."""
    from math import ceil

    if service == "sqs":
        return {"sqs": 1.0}
    if service == "secretsmanager":
        return {"secrets": 1.0}
    if service != "dynamodb":
        return {}
    if operation in ("PutItem",):
        return {"wru": float(max(1, ceil(_item_kb(params.get("Item")))))}
    if operation == "UpdateItem":
        return {"wru": 1.0}
    if operation == "DeleteItem":
        return {"wru": 1.0}
    if operation == "BatchWriteItem":
        units = 0
        for requests in params.get("RequestItems", {}).values():
            for request in requests:
                item = (request.get("PutRequest") or {}).get("Item") or {}
                units += max(1, ceil(_item_kb(item)))
        return {"wru": float(units)}
    if operation == "TransactWriteItems":
        return {"wru": 2.0 * len(params.get("TransactItems", []))}
    if operation == "GetItem":
        return {"rru": 1.0 if params.get("ConsistentRead") else 0.5}
    if operation == "BatchGetItem":
        reads = 0.0
        for request in params.get("RequestItems", {}).values():
            reads += len(request.get("Keys", [])) * (1.0 if request.get("ConsistentRead") else 0.5)
        return {"rru": reads}
    if operation == "Query":
        return {"rru": 1.0 if params.get("ConsistentRead") else 0.5}
    return {}


def rounds(intervals: list[Interval]) -> int:
    """How many round trips: calls that overlap in time count as one."""
    count, end = 0, -1.0
    for start, stop in sorted(intervals):
        if start >= end:
            count += 1
            end = stop
        else:
            end = max(end, stop)
    return count


def split(aws: list[dict[str, Any]], providers: list[Interval]) -> dict[str, float]:
    """Round trips and calls before the first provider call, during the provider calls, after the last one."""
    spans = [(c["start"], c["end"]) for c in aws]
    if not providers:
        return {"before": rounds(spans), "during": 0, "after": 0, "calls": len(aws)}
    first, last = min(p[0] for p in providers), max(p[1] for p in providers)
    before = [s for s in spans if s[0] < first]
    after = [s for s in spans if s[0] >= last]
    return {
        "before": rounds(before),
        "during": len(spans) - len(before) - len(after),
        "after": rounds(after),
        "calls": len(aws),
    }


class _CountingStdout(io.TextIOBase):
    """Counts what the handler prints (log lines, EMF records): CloudWatch Logs ingests every byte of it."""

    def __init__(self) -> None:
        self.bytes = 0

    def write(self, text: str) -> int:
        self.bytes += len(text.encode())
        return len(text)

    def flush(self) -> None:
        pass


def run_paths(
    spec: dict[str, Any],
    load_handler: Callable[[str], Any],
    api_event: Callable[..., dict[str, Any]],
    context: Callable[[str], Any],
    sqs_event: Callable[[str, dict[str, Any]], dict[str, Any]],
    prompt: Callable[[], str],
) -> dict[str, Any]:
    """Each path `spec["requests"]` times after a warm-up: per request its duration, round trips, calls, units."""
    os.environ["BREAKER_FAILURE_THRESHOLD"] = "1000000"  # the fallback path stays a fallback: no circuit opens
    stdout = _CountingStdout()
    sys.stdout = stdout
    route = load_handler("route")
    recorder = Recorder()
    recorder.patch_botocore()
    recorder.patch_providers()
    emulator = os.environ["GEMINI_BASE_URL"]
    repeated = "Explain what a Python generator is, in two sentences."

    def call(body: dict[str, Any], path: str = "/v1/route") -> dict[str, Any]:
        answer: dict[str, Any] = route(api_event("POST", path, body), context("route"))
        if answer.get("statusCode") not in (200, 202):
            raise RuntimeError(f"{path} answered {answer.get('statusCode')}: {str(answer.get('body'))[:300]}")
        return answer

    def route_body(text: str, **extra: Any) -> dict[str, Any]:
        return {"user_id": "bench", "prompt": text, "language": "en", "max_output_tokens": 64, **extra}

    def job() -> None:
        accepted = json.loads(call(route_body(prompt()), "/v1/jobs")["body"])
        message = {"job_id": accepted["job_id"], **route_body(prompt())}
        done = route(sqs_event(accepted["job_id"], message), context("route"))
        if done.get("batchItemFailures"):
            raise RuntimeError(f"the job failed: {done}")

    def fail_slm() -> None:
        fault = json.dumps({"provider": "slm", "kind": "status", "status": 503}).encode()
        request = urllib.request.Request(f"{emulator}/__emulator/faults", data=fault, method="POST")
        request.add_header("Content-Type", "application/json")
        urllib.request.urlopen(request, timeout=10).close()

    def clear_faults() -> None:
        request = urllib.request.Request(f"{emulator}/__emulator/faults", method="DELETE")
        urllib.request.urlopen(request, timeout=10).close()

    call(route_body(repeated))  # the hit path's answer, cached
    paths: dict[str, Callable[[], Any]] = {
        "miss": lambda: call(route_body(prompt())),
        "hit": lambda: call(route_body(repeated)),
        "fallback": lambda: call(route_body(prompt())),
        "sampled": lambda: call(route_body(prompt(), temperature=0.7)),
        "job": job,
    }
    results: dict[str, Any] = {}
    for name, run in paths.items():
        if name == "fallback":
            fail_slm()
        for _ in range(int(spec.get("warmup", 5))):
            run()
        samples: list[dict[str, float]] = []
        for _ in range(int(spec["requests"])):
            recorder.take()
            printed = stdout.bytes
            started = time.perf_counter()
            run()
            elapsed = time.perf_counter() - started
            aws, providers = recorder.take()
            sample = split(aws, providers)
            sample["ms"] = elapsed * 1000
            sample["provider_ms"] = sum(end - start for start, end in providers) * 1000
            sample["log_bytes"] = float(stdout.bytes - printed)
            for unit in ("wru", "rru", "sqs", "secrets"):
                sample[unit] = sum(float(c.get(unit, 0.0)) for c in aws)
            sample["invocations"] = 2.0 if name == "job" else 1.0
            samples.append(sample)
        if name == "fallback":
            clear_faults()
        results[name] = {key: statistics.median(s[key] for s in samples) for key in samples[0]}
        results[name]["p99_ms"] = sorted(s["ms"] for s in samples)[max(0, int(0.99 * len(samples)) - 1)]
        results[name]["operations"] = " ".join(c["operation"] for c in sorted(aws, key=lambda c: c["start"]))
    sys.stdout = sys.__stdout__
    return results
