"""Load with failing providers: concurrent clients drive every endpoint of the local stack while the provider
emulator fails a share of the sLM's and Gemini's calls (503 and 429, alternately).

    .venv/bin/python -m bench.load [--clients 8] [--requests 240] [--fault-share 0.2] [--max-seconds 40]

Starts the local stack (`python -m dev.run_local` in a child process: moto, the emulator, the local API; every
provider is the emulator, all traffic stays on loopback) and stops it at the end. Requests are bounded in count
and in time: no request is sent after `--max-seconds`, and each waits at most 30 s for its answer.

Every request sent is counted once:
  answered  a 2xx with a JSON body (of which: by a fallback provider, from a cache)
  errors    a 4xx or 5xx in the error shape {"error": {"code", "message", "request_id"}}, by status
  lost      everything else: no answer (timeout, connection error), or a body that is neither
Lost requests must be zero (the script exits 1 otherwise), and a 5xx other than the chain's documented 502/503/504
is reported as undocumented (exit 1 too). Faults are armed as the run goes, so that about `--fault-share` of the
calls each provider has received so far have failed; the emulator's own tally is printed at the end.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import statistics
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from dev.stack_process import LocalStackProcess

CHAIN_STATUSES = frozenset({502, 503, 504})  # the documented answers when providers fail
FAULTED_PROVIDERS = ("slm", "gemini")
FAULT_STATUSES = (503, 429)
REQUEST_TIMEOUT_S = 30.0
# Attempts that did not call the provider (so the emulator never saw them).
_NOT_CALLED = frozenset({"circuit_open", "skipped_deadline", "budget_exceeded"})
_TRACE_MARKERS = ("Traceback (most recent call last)", 'File "/', "site-packages/")


def error_shape_problem(status: int, text: str) -> str | None:
    """Why an answer breaks the gateway's error shape, or None when it keeps it (or is not an error).

    Every 4xx/5xx must be JSON `{"error": {"code", "message", "request_id", ...}}` with non-empty strings and
    no stack trace. Shared with the fuzz tests (tests/contract/fuzz_checks.py).
    """
    if status < 400:
        return None
    try:
        body: Any = json.loads(text)
    except ValueError:
        return f"{status} answered a body that is not JSON: {text[:200]!r}"
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return f'{status} answered without an "error" object: {text[:200]!r}'
    missing = [key for key in ("code", "message", "request_id") if not isinstance(error.get(key), str)]
    if missing:
        return f"{status} error lacks string {', '.join(missing)}: {text[:200]!r}"
    empty = [key for key in ("code", "message", "request_id") if not error[key]]
    if empty:
        return f"{status} error has an empty {', '.join(empty)}: {text[:200]!r}"
    if any(marker in text for marker in _TRACE_MARKERS):
        return f"{status} error carries a stack trace: {text[:300]!r}"
    return None


@dataclass
class Report:
    """What happened to every request sent."""

    clients: int
    planned: int
    fault_share: float
    sent: int = 0
    answered: int = 0
    fallbacks: int = 0
    cached: int = 0
    errors: Counter[int] = field(default_factory=Counter)
    error_codes: Counter[str] = field(default_factory=Counter)
    lost_reasons: Counter[str] = field(default_factory=Counter)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    by_endpoint: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    faulted: tuple[str, ...] = FAULTED_PROVIDERS
    provider_calls: dict[str, tuple[int, int]] = field(default_factory=dict)  # emulator: provider -> (calls, failed)
    attempts: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))  # provider -> outcomes
    faults_armed: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    examples: list[str] = field(default_factory=list)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def lost(self) -> int:
        return self.sent - self.answered - self.error_count

    @property
    def undocumented_5xx(self) -> dict[int, int]:
        return {s: n for s, n in self.errors.items() if s >= 500 and s not in CHAIN_STATUSES}

    def lines(self) -> list[str]:
        rate = self.sent / self.seconds if self.seconds else 0.0
        statuses = ", ".join(f"{s} x{n}" for s, n in sorted(self.errors.items())) or "none"
        codes = ", ".join(f"{c} x{n}" for c, n in sorted(self.error_codes.items())) or "none"
        out = [
            f"load: {self.clients} clients, {self.planned} requests planned, the emulator failing about "
            f"{self.fault_share:.0%} of the calls to {', '.join(self.faulted)} (503/429)",
            f"sent      {self.sent:5d} in {self.seconds:.1f} s ({rate:.1f} requests/s)",
            f"answered  {self.answered:5d}   by a fallback {self.fallbacks}, from a cache {self.cached}",
            f"errors    {self.error_count:5d}   by status: {statuses}",
            f"          by code: {codes}",
            f"lost      {self.lost:5d}   (sent - answered - errors; must be 0)"
            + (f": {dict(self.lost_reasons)}" if self.lost_reasons else ""),
        ]
        if self.undocumented_5xx:
            out.append(f"UNDOCUMENTED 5xx: {self.undocumented_5xx} (only {sorted(CHAIN_STATUSES)} are documented)")
        out.append("per endpoint (sent, answered, errors; latency p50 / p95 / max ms):")
        for endpoint in sorted(self.by_endpoint):
            counts, times = self.by_endpoint[endpoint], sorted(self.latencies[endpoint])
            p50 = statistics.median(times) if times else 0.0
            p95 = times[min(len(times) - 1, int(len(times) * 0.95))] if times else 0.0
            out.append(
                f"  {endpoint:27s} {counts['sent']:4d} {counts['answered']:4d} {counts['errors']:4d}   "
                f"{p50:6.0f} / {p95:6.0f} / {max(times, default=0.0):6.0f}"
            )
        calls = ", ".join(
            f"{provider} {n} ({failed} failed, {failed / n:.0%})" if n else f"{provider} 0"
            for provider, (n, failed) in sorted(self.provider_calls.items())
        )
        out.append(f"provider calls (the emulator's tally, route jobs included): {calls or 'none'}")
        for provider, outcomes in sorted(self.attempts.items()):
            listed = ", ".join(f"{outcome} {n}" for outcome, n in outcomes.most_common())
            out.append(f"  attempts at {provider} in the answers: {listed}")
        out.extend(f"  e.g. {example}" for example in self.examples[:5])
        return out


class FaultArmer:
    """Keeps the faults armed for each provider near `share` of the calls it has received so far.

    Calls are counted from the answers' `attempts` (each attempt that reached a provider). Faults come in bursts
    of `burst` consecutive failed calls (`times: burst`), alternating 503 and 429: with the default 2, a request
    usually sees its call and the gateway's retry fail, and falls back to the next provider.
    """

    def __init__(self, client: httpx.Client, emulator_url: str, share: float, report: Report, burst: int = 2) -> None:
        self._client, self._url, self._share, self._report = client, emulator_url, share, report
        self._burst = burst
        self._providers = report.faulted
        self._calls: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._statuses = itertools.cycle(FAULT_STATUSES)

    def observe(self, attempts: list[dict[str, Any]]) -> None:
        if self._share >= 1:  # every call already fails
            return
        called = Counter(str(a.get("provider")) for a in attempts if a.get("outcome") not in _NOT_CALLED)
        with self._lock:
            self._calls.update(called)
            wanted = {p: round(self._share * self._calls[p]) - self._report.faults_armed[p] for p in self._providers}
            faults = []
            for provider, missing in wanted.items():
                for _ in range(max(0, missing) // self._burst):
                    status = next(self._statuses)
                    faults.append({"provider": provider, "kind": "status", "status": status, "times": self._burst})
                    self._report.faults_armed[provider] += self._burst
        if faults:
            self._client.post(f"{self._url}/__emulator/faults", json=faults).raise_for_status()

    def arm_initial(self) -> None:
        """One burst per provider up front, so failures start with the first calls; at a share of 1, every call."""
        times = None if self._share >= 1 else self._burst
        self._report.faults_armed.update(dict.fromkeys(self._providers, self._burst))
        faults = [{"provider": p, "kind": "status", "status": 503, "times": times} for p in self._providers]
        self._client.post(f"{self._url}/__emulator/faults", json=faults).raise_for_status()


ERRORS = (
    ("KeyError: 'user_{word}'", "KeyError", "python"),
    ("TypeError: Cannot read properties of undefined (reading '{word}')", "TypeError", "javascript"),
    ("java.lang.NullPointerException: {word} is null", "NullPointerException", "java"),
    ("panic: runtime error: index out of range in {word}", "panic", "go"),
    ("ZeroDivisionError: division by zero in {word}", "ZeroDivisionError", "python"),
)
WORDS = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo", "lima")


def _plan(count: int, seed: int) -> list[str]:
    """The requests, in order: every endpoint, the route most often (as in production)."""
    mix = ["route", "route_complex", "points_local", "route", "handle_error", "points_model", "job", "status"]
    mix += ["route", "handle_error", "health", "route_complex", "admin_reset"]
    plan = [mix[i % len(mix)] for i in range(count)]
    random.Random(seed).shuffle(plan)
    return plan


def _requests_for(kind: str, i: int) -> list[tuple[str, str, Any, dict[str, str]]]:
    """(method, path, JSON body, headers) for one planned item (a posted job is then read back)."""
    word = WORDS[i % len(WORDS)]
    if kind == "route":
        return [("POST", "/v1/route", {"user_id": f"load-{i % 5}", "prompt": f"Say hello to visitor {i}."}, {})]
    if kind == "route_complex":
        prompt = f"Compare quicksort and mergesort step by step and write a detailed report for case {i}."
        return [("POST", "/v1/route", {"user_id": f"load-{i % 5}", "prompt": prompt}, {})]
    if kind == "points_local":
        return [("POST", "/v1/generate-points", {"prompt": f"{i % 50 + 3} points on a circle of radius {i + 1}"}, {})]
    if kind == "points_model":
        body = {"prompt": f"points shaped like a smiley face, variant {word}", "context": {"count": 20}}
        return [("POST", "/v1/generate-points", body, {})]
    if kind == "handle_error":
        message, type_, language = ERRORS[i % len(ERRORS)]
        body = {"error": {"message": message.format(word=word), "type": type_, "language": language}}
        return [("POST", "/v1/handle-error", {**body, "context": {"service": f"load-{i}"}}, {})]
    if kind == "job":
        return [("POST", "/v1/jobs", {"user_id": "load-jobs", "prompt": f"Summarise item {i} in one line."}, {})]
    if kind == "status":
        return [("GET", "/v1/status", None, {})]
    if kind == "admin_reset":
        return [("POST", "/v1/admin/circuits/reset", {"provider": "huggingface"}, {})]
    return [("GET", "/health", None, {})]


def _endpoint(method: str, path: str) -> str:
    return f"{method} /v1/jobs/{{job_id}}" if path.startswith("/v1/jobs/") else f"{method} {path}"


def _attempts(body: Any) -> list[dict[str, Any]]:
    """The provider attempts an answer lists (a 502/504 lists them in `error.details.attempts`)."""
    if not isinstance(body, dict):
        return []
    attempts = body.get("attempts")
    if not isinstance(attempts, list):
        error = body.get("error")
        details = error.get("details") if isinstance(error, dict) else None
        attempts = details.get("attempts") if isinstance(details, dict) else details
    return [a for a in attempts if isinstance(a, dict) and "provider" in a] if isinstance(attempts, list) else []


def run_load(
    *,
    clients: int = 8,
    requests: int = 240,
    fault_share: float = 0.2,
    max_seconds: float = 40.0,
    seed: int = 7,
    faulted: tuple[str, ...] = FAULTED_PROVIDERS,
    burst: int = 2,
) -> Report:
    """Start the local stack, drive it, stop it; the report of every request sent."""
    report = Report(clients=clients, planned=requests, fault_share=fault_share, faulted=faulted)
    with LocalStackProcess() as stack, httpx.Client(timeout=REQUEST_TIMEOUT_S, trust_env=False) as control:
        armer = FaultArmer(control, stack.emulator_url, fault_share, report, burst)
        if fault_share > 0:
            armer.arm_initial()
        plan = _plan(requests, seed)
        next_item = itertools.count()
        lock = threading.Lock()
        started = time.monotonic()
        deadline = started + max_seconds

        def record(endpoint: str, outcome: str, elapsed_ms: float, example: str | None = None) -> None:
            with lock:
                counts = report.by_endpoint[endpoint]
                report.latencies[endpoint].append(elapsed_ms)
                if outcome in ("answered", "errors"):
                    counts[outcome] += 1
                if example and len(report.examples) < 10:
                    report.examples.append(example)

        def send(client: httpx.Client, method: str, path: str, body: Any, headers: dict[str, str]) -> Any:
            endpoint = _endpoint(method, path)
            with lock:  # counted when sent: a request that never comes back is lost, not forgotten
                report.sent += 1
                report.by_endpoint[endpoint]["sent"] += 1
            began = time.monotonic()
            try:
                response = client.request(method, path, json=body, headers=headers)
            except httpx.HTTPError as exc:
                with lock:
                    report.lost_reasons[type(exc).__name__] += 1
                record(endpoint, "lost", (time.monotonic() - began) * 1000, f"{endpoint}: {type(exc).__name__}")
                return None
            elapsed_ms = (time.monotonic() - began) * 1000
            status, text = response.status_code, response.text
            try:
                parsed: Any = json.loads(text)
            except ValueError:
                parsed = None
            if 200 <= status < 300 and isinstance(parsed, dict):
                with lock:
                    report.answered += 1
                    report.fallbacks += bool(parsed.get("fallback_used"))
                    report.cached += bool(parsed.get("cached"))
                record(endpoint, "answered", elapsed_ms)
            elif status >= 400 and error_shape_problem(status, text) is None:
                with lock:
                    report.errors[status] += 1
                    report.error_codes[str(parsed["error"]["code"])] += 1
                example = f"{endpoint} -> {status} {text[:160]}" if status >= 500 else None
                record(endpoint, "errors", elapsed_ms, example)
            else:
                problem = error_shape_problem(status, text) or f"{status} with a body that is not a JSON object"
                with lock:
                    report.lost_reasons[f"malformed {status}"] += 1
                record(endpoint, "lost", elapsed_ms, f"{endpoint}: {problem}")
            attempts = _attempts(parsed)
            with lock:
                for attempt in attempts:
                    report.attempts[str(attempt["provider"])][str(attempt.get("outcome"))] += 1
            if fault_share > 0:
                armer.observe(attempts)
            return parsed

        def client_loop() -> None:
            with httpx.Client(base_url=stack.url, timeout=REQUEST_TIMEOUT_S, trust_env=False) as client:
                while time.monotonic() < deadline:
                    i = next(next_item)
                    if i >= len(plan):
                        return
                    for method, path, body, headers in _requests_for(plan[i], i):
                        answer = send(client, method, path, body, headers)
                        if path == "/v1/jobs" and isinstance(answer, dict) and answer.get("job_id"):
                            send(client, "GET", f"/v1/jobs/{answer['job_id']}", None, {})

        threads = [threading.Thread(target=client_loop, name=f"load-client-{n}") for n in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=max_seconds + REQUEST_TIMEOUT_S + 5)
        report.seconds = time.monotonic() - started
        report.provider_calls = _emulator_tally(control, stack.emulator_url)
    return report


def _emulator_tally(client: httpx.Client, emulator_url: str) -> dict[str, tuple[int, int]]:
    """Generation calls each provider received, and how many of them a fault answered."""
    calls = client.get(f"{emulator_url}/__emulator/calls").json()["calls"]
    tally: dict[str, tuple[int, int]] = {}
    for provider in ("slm", "gemini", "huggingface"):
        mine = [c for c in calls if c["provider"] == provider]
        tally[provider] = (len(mine), sum(1 for c in mine if c.get("fault")))
    return tally


def main(argv: list[str] | None = None, run: Callable[..., Report] = run_load) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=240, help="planned requests (a job counts twice: post, get)")
    parser.add_argument("--fault-share", type=float, default=0.2, help="share of sLM and Gemini calls that fail")
    parser.add_argument("--max-seconds", type=float, default=40.0, help="no request is sent after this")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--faulted", default=",".join(FAULTED_PROVIDERS), help="providers the emulator fails")
    parser.add_argument("--burst", type=int, default=2, help="consecutive calls each fault fails (2: call and retry)")
    args = parser.parse_args(argv)
    report = run(
        clients=args.clients, requests=args.requests, fault_share=args.fault_share, max_seconds=args.max_seconds,
        seed=args.seed, faulted=tuple(p for p in args.faulted.split(",") if p), burst=args.burst,
    )  # fmt: skip
    print("\n".join(report.lines()), flush=True)
    if report.lost or report.undocumented_5xx:
        print("FAILED: requests were lost or answered with an undocumented 5xx", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
