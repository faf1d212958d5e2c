"""Lambda instances as separate processes: each its own Python interpreter running one function's real handler.

The gateway's promises (a cap no concurrency overshoots, one breaker for every instance) span instances, and an
instance is a process: its caches, leases and counters are its own; only AWS is shared. So the multi-process
tests and `bench/` run each instance as a child interpreter that shares one moto server behind the AWS fault
injector (`dev.faulty_stack`) and the provider emulator:

    with Instances(stack.environment(), 4) as instances:        # 4 warm instances (their cold start done)
        results = instances.run([Plan("route", "/v1/route", bodies)] * 4)   # all start together
        results += instances.run(...)                                       # the same instances, still warm
        instances.release()                                                 # as each instance ends

Each child answers its plan's requests one after the other (one at a time, as a Lambda instance does), at most one
every `interval_s`, and says what each answer was. Dev and tests only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from types import TracebackType
from typing import IO, Any, Self

from dev.lambda_runtime import REPO_ROOT


@dataclass(frozen=True)
class Plan:
    """What one instance does: `bodies` sent as API Gateway events to `path` of `function`."""

    function: str
    path: str
    bodies: list[dict[str, Any]]
    interval_s: float = 0.0
    headers: dict[str, str] = field(default_factory=lambda: {"Cache-Control": "no-cache"})
    api_key_id: str | None = None  # the API key API Gateway identified (`requestContext.identity.apiKeyId`)


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


class Instances:
    """`count` warm instances sharing `environment`'s AWS endpoint and providers; stopped on exit."""

    def __init__(self, environment: dict[str, str], count: int, timeout_s: float = 120.0) -> None:
        self._environment = environment
        self._count = count
        self._timeout_s = timeout_s
        self._children: list[tuple[subprocess.Popen[str], IO[str]]] = []

    def __enter__(self) -> Self:
        keep = {name: os.environ[name] for name in ("PATH", "HOME", "LANG", "TMPDIR") if name in os.environ}
        env = {**keep, **self._environment, "PYTHONPATH": str(REPO_ROOT), "POWERTOOLS_LOG_LEVEL": "ERROR"}
        for number in range(self._count):
            log = tempfile.TemporaryFile("w+")
            process = subprocess.Popen(
                [sys.executable, "-m", "dev.instances", str(number)],
                cwd=REPO_ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True,
            )  # fmt: skip
            self._children.append((process, log))
        for number in range(self._count):
            self._reply(number)  # "ready": imported and cold-started
        return self

    def run(self, plans: list[Plan]) -> list[Result]:
        """Each plan on its own instance, all started together; every answer, instance by instance."""
        if len(plans) > self._count:
            raise ValueError(f"{len(plans)} plans for {self._count} instances")
        for number, plan in enumerate(plans):
            self._send(number, {"plan": asdict(plan)})
        return [Result(**item) for number in range(len(plans)) for item in self._reply(number)]

    def advance_clock(self, number: int, seconds: float) -> None:
        """Move instance `number`'s clock (`gateway.core.clock`: cache ages, cool-downs, leases) `seconds` ahead, as
        if it had sat idle that long; the others' clocks do not move."""
        self._send(number, {"advance": seconds})
        self._reply(number)

    def output(self, number: int) -> str:
        """Everything instance `number` has written so far: its log lines and EMF records (its stdout and stderr)."""
        log = self._children[number][1]
        log.flush()
        log.seek(0)
        text = log.read()
        log.seek(0, os.SEEK_END)
        return text

    def release(self) -> None:
        """What each instance holds (spend leases, breaker counts) written back, as when it ends."""
        for number in range(self._count):
            self._send(number, {"release": True})
        for number in range(self._count):
            self._reply(number)

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        for process, log in self._children:
            if process.poll() is None and process.stdin is not None:
                try:
                    process.stdin.close()  # end of input: the child exits
                    process.wait(timeout=10)
                except (OSError, subprocess.TimeoutExpired):
                    process.kill()
                    process.wait()
            log.close()
        self._children.clear()

    def _send(self, number: int, message: dict[str, Any]) -> None:
        process = self._children[number][0]
        assert process.stdin is not None
        process.stdin.write(json.dumps(message) + "\n")
        process.stdin.flush()

    def _reply(self, number: int) -> Any:
        process, log = self._children[number]
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            process.wait(timeout=self._timeout_s)
            log.seek(0)
            raise RuntimeError(f"instance {number} exited {process.returncode}:\n{log.read()[-3000:]}")
        return json.loads(line)


def run_instances(environment: dict[str, str], plans: list[Plan]) -> list[Result]:
    """Each plan on its own new instance, all started together; they end (releasing what they hold) after."""
    with Instances(environment, len(plans)) as instances:
        results = instances.run(plans)
        instances.release()
    return results


def _serve(number: int, replies: IO[str]) -> None:
    """One instance: cold-start, then answer plans read from stdin until it closes."""
    import importlib

    from dev.lambda_runtime import FUNCTIONS, api_event, invoke, load_handler, use_layer

    use_layer()
    from gateway.core import clock

    clock.use(_clock)
    invoke("status", api_event("GET", "/health"))  # the cold start, before the clock starts: the layer,
    for function in FUNCTIONS:  # every function's app,
        load_handler(function)
    for sdk in ("google.genai", "huggingface_hub", "httpx"):  # and the SDKs a first call would import
        importlib.import_module(sdk)
    _write(replies, "ready")
    for line in sys.stdin:
        message = json.loads(line)
        if message.get("release"):
            _release()
            _write(replies, {})
            continue
        if "advance" in message:
            _clock.seconds += float(message["advance"])
            _write(replies, {})
            continue
        _write(replies, _answer(number, Plan(**message["plan"])))


class _SteppedClock:
    """The system's clock plus the seconds the test moved this instance's on (`Instances.advance_clock`)."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def wall(self) -> float:
        return time.time() + self.seconds

    def monotonic(self) -> float:
        return time.monotonic() + self.seconds


_clock = _SteppedClock()


def _answer(number: int, plan: Plan) -> list[dict[str, Any]]:
    from dev.lambda_runtime import LocalLambdaContext, api_event, invoke

    started = time.time()
    results = []
    for index, body in enumerate(plan.bodies):
        wait = started + index * plan.interval_s - time.time()
        if wait > 0:
            time.sleep(wait)
        begun = time.time()
        identity = {"apiKeyId": plan.api_key_id} if plan.api_key_id else None
        event = api_event("POST", plan.path, body, headers=plan.headers, identity=identity)
        raw = invoke(plan.function, event, LocalLambdaContext(function_name=plan.function))
        results.append(_result(number, raw, begun - started, time.time() - begun))
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
    """What an instance holds as it ends (in Lambda, an extension's shutdown hook would do the same)."""
    from gateway.config.settings import get_settings
    from gateway.resilience.guards import resilience_for

    guards = resilience_for(get_settings())
    for guard in (guards.spend, guards.breakers):
        release = getattr(guard, "release", None)
        if release is not None:
            release()


def _write(replies: IO[str], message: Any) -> None:
    replies.write(json.dumps(message) + "\n")
    replies.flush()


def main(argv: list[str]) -> int:
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "w")  # the protocol's channel: stdout itself is for logs
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    _serve(int(argv[0]), replies)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
