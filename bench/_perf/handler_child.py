"""One fresh gateway process for `bench.perf`: a cold start, or a warm series beside the FastAPI + Mangum floor.

Run by path (`python -S bench/_perf/handler_child.py SPEC OUT`, with PYTHONPATH = the layer's packages built for
this machine, boto3 and the repo root: see bench/_perf/layer_host.py; or with the dev virtualenv's interpreter),
with the environment of the local stack (moto server, provider emulator) already set by the parent. SPEC is
JSON; the result is written as JSON to the file OUT. Nothing but the standard library is imported before the
handler (this module, `bench._perf.process_figures` and `dev.lambda_runtime` need nothing else).

cold: load `functions/<function>/app.py` with the layer on sys.path (as Lambda lays them out), serve one API
      Gateway event, and report the time from the parent's spawn (`BENCH_SPAWNED_AT`, CLOCK_MONOTONIC, which
      is system-wide on Linux) to the answer, split into interpreter start, handler import and first request;
      the first request's boto3 client creations and AWS calls (timed in botocore); the peak RSS (VmHWM); which
      of the imported layer modules the built layer (`layer_build`) ships a python3.12 `.pyc` for; and, when
      asked, what compiling from source costs: for the modules without one (Lambda does that at every cold
      start, /opt being read-only), and for all of them (what a layer without bytecode costs).
warm: load the route handler and a bare FastAPI + Mangum app that returns a constant, and time `requests`
      invocations of each, interleaved; per route request also the provider attempts' own latency (the
      answer's `attempts[].latency_ms`), the time in AWS calls (botocore send + parse on the handler's thread,
      the moto server's answer included) and the SDK's own CPU around them (validate, serialize, sign).
paths: each path of a route request (miss, hit, fallback, sampled, job) `requests` times in one warm process: its
      duration, its AWS round trips before and after the provider call, its calls, request units and log bytes
      (`bench._perf.paths`).
"""

from __future__ import annotations

import importlib.machinery
import json
import os
import random
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(1, str(REPO_ROOT))

from bench._perf.process_figures import ms, peak_rss_mib  # noqa: E402 - after the path
from dev.lambda_runtime import LAYER_DIR, LocalLambdaContext, api_event, load_handler  # noqa: E402 - after the path

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


PYC_TAG = "cpython-312"  # Lambda's runtime: the bytecode the built layer must ship
PYC_MAGIC_312 = (3531).to_bytes(2, "little") + b"\r\n"  # importlib.util.MAGIC_NUMBER of CPython 3.12


def _layer_module_files(layer_packages: set[str]) -> dict[Path, Path]:
    """Source files of the imported modules that the built layer ships (boto3 & co. come with the runtime),
    each with its path relative to the `sys.path` entry it was imported from (= its path in the layer)."""
    roots = sorted((Path(entry) for entry in sys.path if entry), key=lambda root: -len(root.parts))
    files: dict[Path, Path] = {}
    for name, module in list(sys.modules.items()):
        source = getattr(module, "__file__", None)
        if not source or not source.endswith(".py"):
            continue
        root = name.split(".", 1)[0]
        path = Path(source)
        if root in layer_packages or path.is_relative_to(LAYER_DIR):
            base = next((entry for entry in roots if path.is_relative_to(entry)), path.parent)
            files[path] = path.relative_to(base)
    return files


def _layer_pyc(layer_python: Path, relative: Path) -> str:
    """'pyc' when the built layer ships a python3.12 .pyc for the module, 'source' when only its source, else
    'absent' (not in the built layer at all: a dependency it leaves out, or another version of a package)."""
    if not (layer_python / relative).is_file():
        return "absent"
    cached = layer_python / relative.parent / "__pycache__" / f"{relative.stem}.{PYC_TAG}.pyc"
    try:
        with cached.open("rb") as handle:
            return "pyc" if handle.read(4) == PYC_MAGIC_312 else "source"
    except OSError:
        return "source"


def _compile_ms(files: list[Path]) -> float:
    started = time.perf_counter()
    for path in files:
        compile(path.read_bytes(), str(path), "exec", dont_inherit=True)
    return ms(time.perf_counter() - started)


def cold(spec: dict[str, Any]) -> dict[str, Any]:
    spawned = float(os.environ["BENCH_SPAWNED_AT"])
    main_started = time.monotonic()
    clock = _AwsClock()
    handler = load_handler(spec["function"])
    imported = time.monotonic()
    clients_at_import = clock.clients
    event = api_event(spec["method"], spec["path"], spec.get("body"), headers=spec.get("headers") or {})
    answer = handler(event, LocalLambdaContext(function_name=spec["function"]))
    answered = time.monotonic()
    rss = peak_rss_mib()
    try:
        attempts = json.loads(str(answer.get("body"))).get("attempts") or []
    except (ValueError, AttributeError):
        attempts = []
    files = _layer_module_files(set(spec.get("layer_packages") or ()))
    layer_python = Path(spec["layer_build"]) / "python" if spec.get("layer_build") else None
    shipped = {path: _layer_pyc(layer_python, rel) if layer_python else "source" for path, rel in files.items()}
    uncompiled = [path for path, state in shipped.items() if state != "pyc"]
    compiling = bool(spec.get("compile"))
    gateway = sys.modules.get("gateway")
    return {
        "status": answer.get("statusCode"),
        "body": str(answer.get("body"))[:400],
        "gateway_file": getattr(gateway, "__file__", None),  # the parent checks it is the working tree's
        "total_ms": ms(answered - spawned),
        "startup_ms": ms(main_started - spawned),
        "import_ms": ms(imported - main_started),
        "first_request_ms": ms(answered - imported),
        "peak_rss_mib": rss,
        "attempts": len(attempts),
        "attempt_ms": float(sum(a.get("latency_ms", 0.0) for a in attempts)),
        "aws_calls": clock.calls,
        "aws_ms": ms(clock.call_s),
        "clients": clock.clients,
        "clients_at_import": clients_at_import,
        "client_ms": ms(clock.client_s),
        "layer_modules": len(files),
        "layer_modules_pyc": sum(state == "pyc" for state in shipped.values()),
        "layer_modules_absent": sorted(str(files[path]) for path, state in shipped.items() if state == "absent"),
        "compile_ms": _compile_ms(uncompiled) if compiling else None,  # what Lambda compiles at a cold start
        "compile_all_ms": _compile_ms(list(files)) if compiling else None,  # ... were no .pyc shipped
    }


class _AwsClock:
    """Time in botocore: creating clients; sending + parsing calls on the handler's thread (`call_s`); and
    whole API calls there (`api_s`: also validating, serializing and signing), so `api_s - call_s` is the
    SDK's own CPU on the request.

    Installed as an import hook, so botocore is patched when (and only if) the gateway imports it.
    """

    def __init__(self) -> None:
        self.thread = threading.get_ident()
        self.call_s = 0.0
        self.api_s = 0.0
        self.calls = 0
        self.other_thread_calls = 0
        self.client_s = 0.0
        self.clients = 0
        self._targets: dict[str, Callable[[ModuleType], None]] = {
            "botocore.endpoint": self._patch_endpoint,
            "botocore.session": self._patch_session,
            "botocore.client": self._patch_client,
        }
        for name in list(self._targets):
            if name in sys.modules:
                self._targets.pop(name)(sys.modules[name])
        if self._targets:
            sys.meta_path.insert(0, _AfterImport(self._targets))

    def _patch_endpoint(self, module: ModuleType) -> None:
        endpoint: Any = module.Endpoint
        original = endpoint._do_get_response

        def timed(endpoint_self: Any, *args: Any, **kwargs: Any) -> Any:
            if threading.get_ident() != self.thread:
                self.other_thread_calls += 1
                return original(endpoint_self, *args, **kwargs)
            started = time.perf_counter()
            try:
                return original(endpoint_self, *args, **kwargs)
            finally:
                self.call_s += time.perf_counter() - started
                self.calls += 1

        endpoint._do_get_response = timed

    def _patch_client(self, module: ModuleType) -> None:
        client: Any = module.BaseClient
        original = client._make_api_call

        def timed(client_self: Any, *args: Any, **kwargs: Any) -> Any:
            if threading.get_ident() != self.thread:
                return original(client_self, *args, **kwargs)
            started = time.perf_counter()
            try:
                return original(client_self, *args, **kwargs)
            finally:
                self.api_s += time.perf_counter() - started

        client._make_api_call = timed

    def _patch_session(self, module: ModuleType) -> None:
        session: Any = module.Session
        original = session.create_client

        def timed(session_self: Any, *args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(session_self, *args, **kwargs)
            finally:
                self.client_s += time.perf_counter() - started
                self.clients += 1

        session.create_client = timed


class _AfterImport:
    """A meta path finder that calls `targets[name](module)` right after `name` is first imported.

    (Not an `importlib.abc.MetaPathFinder` subclass: importing importlib.abc would cost the child ~30 ms.)
    """

    def __init__(self, targets: dict[str, Callable[[ModuleType], None]]) -> None:
        self.targets = targets

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self.targets:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return None
        loader: Any = spec.loader
        original = loader.exec_module
        after = self.targets.pop(fullname)

        def exec_module(module: ModuleType) -> None:
            original(module)
            after(module)

        loader.exec_module = exec_module
        return spec


_SYLLABLES = ("ka", "lo", "mi", "ne", "su", "ra", "te", "vo", "pi", "du", "fe", "gal", "mon", "tir", "bex", "sul")


def _prompt(rng: random.Random) -> str:
    """A prompt no earlier one resembles, so each request is a cache miss and not a repetition."""
    words = ["".join(rng.choice(_SYLLABLES) for _ in range(3)) for _ in range(5)]
    return f"Explain how the {words[0]} {words[1]} differs from the {words[2]} of {words[3]} and {words[4]}."


def warm(spec: dict[str, Any]) -> dict[str, Any]:
    from fastapi import FastAPI
    from mangum import Mangum

    floor_app = FastAPI()

    @floor_app.post("/v1/route")
    async def constant() -> dict[str, str]:  # async, like the gateway's routes: no thread-pool hop
        return {"text": "constant"}

    floor: Handler = Mangum(floor_app, lifespan="off")
    route = load_handler("route")
    rng = random.Random(spec.get("seed", 6))
    clock = _AwsClock()

    def route_event() -> dict[str, Any]:
        body = {"user_id": "bench", "prompt": _prompt(rng), "language": "en", "max_output_tokens": 64}
        return api_event("POST", "/v1/route", body)

    floor_event = api_event("POST", "/v1/route", {"user_id": "bench", "prompt": "hello", "language": "en"})
    for _ in range(int(spec.get("warmup", 20))):
        route(route_event(), LocalLambdaContext(function_name="route"))
        floor(floor_event, LocalLambdaContext(function_name="floor"))

    series: dict[str, list[float]] = {
        "route_ms": [], "attempt_ms": [], "aws_ms": [], "sdk_ms": [], "aws_calls": [], "floor_ms": []
    }  # fmt: skip
    for _ in range(int(spec["requests"])):
        event, context = route_event(), LocalLambdaContext(function_name="route")
        aws_before, api_before, calls_before = clock.call_s, clock.api_s, clock.calls
        started = time.perf_counter()
        answer = route(event, context)
        elapsed = time.perf_counter() - started
        if answer.get("statusCode") != 200:
            raise RuntimeError(f"route answered {answer.get('statusCode')}: {str(answer.get('body'))[:300]}")
        attempts = json.loads(answer["body"]).get("attempts") or []
        if not attempts:
            raise RuntimeError("route answered without a provider attempt (served from the cache?)")
        series["route_ms"].append(ms(elapsed))
        series["attempt_ms"].append(float(sum(a["latency_ms"] for a in attempts)))
        series["aws_ms"].append(ms(clock.call_s - aws_before))
        series["sdk_ms"].append(ms((clock.api_s - api_before) - (clock.call_s - aws_before)))
        series["aws_calls"].append(float(clock.calls - calls_before))
        floor_context = LocalLambdaContext(function_name="floor")
        started = time.perf_counter()
        floor(floor_event, floor_context)
        series["floor_ms"].append(ms(time.perf_counter() - started))
    return {**series, "other_thread_aws_calls": clock.other_thread_calls, "peak_rss_mib": peak_rss_mib()}


def _sqs_event(message_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """An SQS event of one route job, as the route function's event source mapping delivers it."""
    event: dict[str, Any] = json.loads((REPO_ROOT / "events" / "sqs_route_jobs.json").read_text())
    record = dict(event["Records"][0], messageId=message_id, body=json.dumps(body))
    return {"Records": [record]}


def paths(spec: dict[str, Any]) -> dict[str, Any]:
    from bench._perf.paths import run_paths

    rng = random.Random(spec.get("seed", 15))
    return run_paths(
        spec, load_handler, api_event, lambda name: LocalLambdaContext(function_name=name), _sqs_event,
        lambda: _prompt(rng),
    )  # fmt: skip


def main() -> int:
    spec: dict[str, Any] = json.loads(sys.argv[1])
    modes: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {"cold": cold, "warm": warm, "paths": paths}
    result = modes[spec["mode"]](spec)
    Path(sys.argv[2]).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
