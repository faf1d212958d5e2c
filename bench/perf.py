"""The gateway's performance beside LiteLLM's, on this machine, in one run (issue 6).

    .venv/bin/python -m bench.perf [--runs 5] [--requests 300] [--no-litellm] [--profile] [--dev-venv]

1. Cold start of each function: a fresh process that imports the handler with the layer on sys.path, as Lambda
   lays it out, and serves its first API Gateway event against the provider emulator and a moto server (both
   started here, on loopback). The process is `python -S` (the interpreter the project's venv was made from, no
   site-packages) on what Lambda has: the layer's packages built for this machine (its pinned requirements less
   the Makefile's DROP, in `bench/.layer-host`, built on the first run and after a change: see
   bench/_perf/layer_host.py), boto3 at the dev pin (the Lambda runtime provides it) and the working tree's
   gateway; not the dev virtualenv, whose dev-only packages (rich, pygments, moto, ...) some imports pick up
   (`--dev-venv` runs there instead, for comparison; so does a run that cannot build the mirror). Measured from
   the parent's spawn to the answer, so interpreter start is in it; the median of `--runs`. Beside it the same
   measure for `import litellm` plus a first `litellm.Router` call with `mock_response`, in LiteLLM's own
   virtual environment (`bench/.venv-litellm`, created here with a pinned LiteLLM from PyPI on the first run,
   then reused).
2. Warm overhead per request, through the real route handler (in a fresh process on the same interpreter and
   packages as the cold starts, after a warm-up), with the emulator answering at once. Overhead = the
   invocation's wall time, less the provider attempts' own latency (the answer's `attempts[].latency_ms`: SDK +
   loopback), less the time in AWS calls on the handler's thread (botocore send + parse against moto: the
   response cache, the interaction store; real DynamoDB latency differs, so it is shown apart). Beside it the
   floor (a bare FastAPI + Mangum handler returning a constant, same process, interleaved) and the peer
   (`litellm.Router.completion` with `mock_response`: all of its time is overhead).
   The `+pyc` column: compiling, from source, the imported layer modules for which the built layer ships no
   python3.12 `.pyc` (Lambda repeats that at every cold start: /opt is read-only); not in `cold`, whose
   process finds its own `.pyc`. The built layer compiles everything (layers/providers/Makefile), so it is
   about 0; the footnote gives what compiling all of them would cost.
3. The built layer (`.aws-sam/build/ProvidersLayer`, from `make template`), unzipped and zipped, as shipped
   (with its `__pycache__`) and without it, beside LiteLLM's installed size (its site-packages less pip and
   setuptools, without `__pycache__`: its venv's bytecode is this machine's, not part of a package).
4. Peak RSS (`VmHWM`) of each function's process after its first request.
5. The paths of a route request (a miss, a hit, a fallback, a sampled answer, a queued job), each in the same warm
   process (`bench/_perf/paths.py`): its AWS round trips before and after the provider call (calls made at the
   same time count as one), its calls, DynamoDB request units and log bytes, and from those and its duration the
   AWS bill per million requests (`bench/_perf/bill.py`, prices in `shared/aws_prices.json`), beside the provider's
   price of a typical answer.

When no built layer is there (`make template` builds it), the script builds it first, with the layer's own
Makefile (`build-ProvidersLayer`, as `sam build` runs it), so that the bytecode check always has a layer to check.

Then each target with pass/MISS and the margin, and, for a function that misses a cold-start or memory target
(or every function with `--profile`), an import profile: `python -X importtime` self time per top-level package.
Everything runs on loopback; nothing but the package index (for the LiteLLM install and the layer's packages)
is reached. Everything started here is
stopped before the script returns.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import zipfile
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench._perf import bill
from bench._perf.layer_host import LAYER_SOURCE, HandlerPython, base_python, dev_venv, ensure_layer_host

REPO_ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO_ROOT / "bench"
HANDLER_CHILD = BENCH_DIR / "_perf" / "handler_child.py"
LITELLM_CHILD = BENCH_DIR / "_perf" / "litellm_child.py"
LITELLM_VERSION = "1.100.5"  # pinned; newer releases need a certifi that the package index here lacks
LITELLM_VENV = BENCH_DIR / ".venv-litellm"
LAYER_BUILD = REPO_ROOT / ".aws-sam" / "build" / "ProvidersLayer"
EVENTS_DIR = REPO_ROOT / "events"
MIB = 1024 * 1024
CHILD_TIMEOUT_S = 180
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer")  # the Lambda Python runtime ships these

# Targets (issue 6).
COLD_RATIO_MIN = 3.0  # each function's cold start at least 3x faster than LiteLLM's import + first call
HEALTH_SHARE_MAX = 0.5  # status GET /health cold start at most half of the route function's
WARM_P50_MAX_MS = 1.0  # warm overhead above the floor
WARM_P99_MAX_MS = 3.0
LAYER_UNZIPPED_MAX_MIB = 70.0
LAYER_ZIPPED_MAX_MIB = 25.0
RSS_MAX_MIB = 120.0
ROUND_TRIPS_MAX = 1  # AWS round trips on a miss before the provider call, and after it (issue 15)
PATH_REQUESTS = 30  # requests per path in the paths' run


@dataclass(frozen=True)
class Case:
    """One function and the first request its fresh process serves."""

    label: str
    function: str
    method: str
    path: str
    event_file: str | None = None  # events/<name>.json: its body is the request's
    model_path: bool = False  # the request must reach a provider: a new word in it defeats caches and the parser

    def body(self) -> Any:
        if self.event_file is None:
            return None
        body = json.loads(json.loads((EVENTS_DIR / self.event_file).read_text())["body"])
        if self.model_path:
            # Letters only (g-z): the error fingerprint masks numbers, hex and ids. The error cache's key is
            # the fingerprint (type, message, frame, read from the stack) plus the code and the context.
            word = "".join(random.choice("ghjkmnpqrstvwxyz") for _ in range(8))
            if isinstance(body.get("prompt"), str):
                body["prompt"] += f" {word}"
            elif isinstance(body.get("error"), dict):
                error = body["error"]
                error["code"] = f"{error.get('code') or ''}\n# {word}\n"
        return body


CASES = (
    Case("route", "route", "POST", "/v1/route", "route.json", model_path=True),
    Case("generate_points", "generate_points", "POST", "/v1/generate-points", "generate_points.json", True),
    Case("gen-points parser", "generate_points", "POST", "/v1/generate-points", "generate_points.json"),
    Case("handle_error", "handle_error", "POST", "/v1/handle-error", "handle_error.json", model_path=True),
    Case("status /health", "status", "GET", "/health"),
    Case("status /v1/status", "status", "GET", "/v1/status"),
)


@dataclass
class Check:
    name: str
    ok: bool
    measured: str
    target: str
    miss: str = ""


@dataclass
class Figures:
    cold: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    warm: dict[str, Any] = field(default_factory=dict)
    peer_warm: dict[str, Any] = field(default_factory=dict)
    paths: dict[str, Any] = field(default_factory=dict)
    litellm_version: str = ""


# --------------------------------------------------------------------------- helpers


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def p99(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return float(ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)])


def load() -> str:
    """The machine's load: other work on the same cores skews every figure here."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f}/{five:.1f} (1/5 min) on {os.cpu_count()} cores"


def run_quiet(command: Sequence[str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)


def ensure_litellm() -> Path | None:
    """LiteLLM's own venv, created (pinned version) on the first run and reused after; None when it cannot be."""
    python = LITELLM_VENV / "bin" / "python"
    if python.exists():
        probe = run_quiet([str(python), "-c", "import importlib.metadata as m; print(m.version('litellm'))"], 60)
        if probe.returncode == 0 and probe.stdout.strip() == LITELLM_VERSION:
            return python
    print(f"installing litellm=={LITELLM_VERSION} into {LITELLM_VENV.relative_to(REPO_ROOT)} (first run only) ...")
    sys.stdout.flush()
    steps = [
        [base_python(), "-m", "venv", "--clear", str(LITELLM_VENV)],
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", f"litellm=={LITELLM_VERSION}"],
    ]
    for step in steps:
        done = run_quiet(step, 1200)
        if done.returncode != 0:
            errors = [line for line in (done.stderr + done.stdout).splitlines() if not line.startswith("WARNING:")]
            print("  could not install LiteLLM; its figures are skipped:\n    " + "\n    ".join(errors[-5:]))
            return None
    return python


def ensure_layer_build() -> str:
    """The built layer, built here with its Makefile when `make template` has not built it; what was done."""
    if (LAYER_BUILD / "python").is_dir():
        return ""
    print(f"building the layer into {LAYER_BUILD.relative_to(REPO_ROOT)} (none built; `make template` builds it too)")
    sys.stdout.flush()
    target = ["build-ProvidersLayer", f"ARTIFACTS_DIR={LAYER_BUILD}", f"PYTHON={base_python()}"]
    command = ["make", "-C", str(LAYER_SOURCE), *target]
    done = run_quiet(command, 1800)
    if done.returncode != 0:
        tail = "\n    ".join((done.stderr + done.stdout).splitlines()[-5:])
        print(f"  could not build the layer; its bytecode is not checked:\n    {tail}")
        return "the layer could not be built"
    return "built by this run"


def child_environment(stack_env: dict[str, str]) -> dict[str, str]:
    """A minimal environment, as Lambda's is: no provider keys or proxies from the caller's shell.

    Every provider base URL is the emulator's and AWS_ENDPOINT_URL the moto server's, both on loopback; the
    template's constant Globals (e.g. PYDANTIC_DISABLE_PLUGINS) are set as in every deployed function.
    """
    from dev.aws_stack import load_template

    globals_env = load_template()["Globals"]["Function"]["Environment"]["Variables"]
    constants = {key: value for key, value in globals_env.items() if isinstance(value, str)}
    base = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "TMPDIR") if key in os.environ}
    return {**base, **constants, **stack_env}


def run_child(
    python: str | Path,
    script: Path,
    spec: dict[str, Any],
    env: dict[str, str],
    *,
    flags: Sequence[str] = (),
    importtime: bool = False,
) -> tuple[dict[str, Any], str]:
    """Run one child (`python [flags] script SPEC OUT`); return its JSON result and its stderr."""
    with tempfile.TemporaryDirectory(prefix="bench-perf-") as tmp:
        out = Path(tmp) / "result.json"
        profiling = ["-X", "importtime"] if importtime else []
        command = [str(python), *flags, *profiling, str(script), json.dumps(spec), str(out)]
        child_env = {**env, "BENCH_SPAWNED_AT": repr(time.monotonic())}
        done = subprocess.run(
            command,
            env=child_env,
            cwd=REPO_ROOT,
            stdout=subprocess.DEVNULL,  # the handlers' log and EMF lines, as Lambda's stdout
            stderr=subprocess.PIPE,
            text=True,
            timeout=CHILD_TIMEOUT_S,
            check=False,
        )
        if done.returncode != 0 or not out.exists():
            tail = "\n".join(done.stderr.splitlines()[-15:])
            raise RuntimeError(f"{script.name} {spec.get('mode')} {spec.get('function', '')} failed:\n{tail}")
        result: dict[str, Any] = json.loads(out.read_text())
        return result, done.stderr


def run_handler(
    handler: HandlerPython, spec: dict[str, Any], env: dict[str, str], *, importtime: bool = False
) -> tuple[dict[str, Any], str]:
    """Run the handler child on the handler processes' interpreter and packages."""
    try:
        return run_child(
            handler.python, HANDLER_CHILD, spec, {**env, **handler.env}, flags=handler.flags, importtime=importtime
        )
    except RuntimeError as error:
        if handler.layer is not None and "ModuleNotFoundError" in str(error):
            raise RuntimeError(
                f"{error}\n(run on the layer's packages only: the layer, less the Makefile's DROP, lacks a module"
                " that the handler imports; Lambda would fail the same way)"
            ) from error
        raise


def layer_packages(root: Path = LAYER_BUILD / "python") -> list[str]:
    """Top-level importable names in a layer folder (empty when it is not there)."""
    if not root.is_dir():
        return []
    names = set()
    for entry in root.iterdir():
        if entry.name.endswith((".dist-info", ".data", ".pth")) or entry.name == "__pycache__":
            continue
        names.add(entry.name.split(".", 1)[0])
    return sorted(names)


# --------------------------------------------------------------------------- sizes


def tree_bytes(root: Path, *, pycache: bool = False) -> int:
    total = 0
    for path in root.rglob("*"):
        if (not pycache and "__pycache__" in path.parts) or not path.is_file() or path.is_symlink():
            continue
        total += path.stat().st_size
    return total


def zipped_bytes(root: Path, *, pycache: bool = False) -> int:
    """The layer zipped as `sam deploy` packages it (deflate), with or without its `__pycache__`."""
    with tempfile.TemporaryDirectory(prefix="bench-perf-zip-") as tmp:
        target = Path(tmp) / "layer.zip"
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(root.rglob("*")):
                if path.is_file() and (pycache or "__pycache__" not in path.parts):
                    archive.write(path, path.relative_to(root).as_posix())
        return target.stat().st_size


def bytecode_coverage(root: Path) -> tuple[int, int]:
    """(.py files, of which with a python3.12 .pyc beside them in __pycache__) in a built layer."""
    sources = [path for path in root.rglob("*.py") if "__pycache__" not in path.parts]
    compiled = sum((path.parent / "__pycache__" / f"{path.stem}.cpython-312.pyc").is_file() for path in sources)
    return len(sources), compiled


def package_sizes(site: Path) -> dict[str, int]:
    """Bytes per top-level entry of a site-packages folder (dist-info folded into nothing: listed apart)."""
    sizes: dict[str, int] = {}
    for entry in site.iterdir():
        size = tree_bytes(entry) if entry.is_dir() else entry.stat().st_size
        sizes[entry.name] = size
    return sizes


def litellm_site() -> Path | None:
    found = sorted((LITELLM_VENV / "lib").glob("python*/site-packages"))
    return found[0] if found else None


def is_installer(name: str) -> bool:
    return name.split("-", 1)[0].split(".", 1)[0] in {"pip", "setuptools", "_distutils_hack", "pkg_resources"} or (
        name == "distutils-precedence.pth"
    )


# --------------------------------------------------------------------------- import profile


_IMPORTTIME = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|( *)(\S+)")


@dataclass(frozen=True)
class ImportProfile:
    total_ms: float
    by_package: list[tuple[str, float]]  # self time per top-level package, heaviest first
    edges: list[tuple[str, str, float]]  # (gateway or function module, what it imported first, cumulative ms)


def import_profile(stderr: str, top: int = 10) -> ImportProfile:
    """Read `python -X importtime` output (children are printed before their parent, indented one deeper).

    An import's cumulative time is paid by whichever module imports it first.
    """
    per_package: dict[str, float] = defaultdict(float)
    pending: dict[int, list[tuple[str, float]]] = defaultdict(list)
    edges: list[tuple[str, str, float]] = []
    for line in stderr.splitlines():
        match = _IMPORTTIME.match(line)
        if not match:
            continue
        self_us, cumulative_us, indent, name = int(match[1]), int(match[2]), len(match[3]), match[4]
        depth = (indent - 1) // 2
        per_package[name.split(".", 1)[0]] += self_us / 1000
        children = pending.pop(depth + 1, [])
        if name.startswith("gateway"):
            edges.extend((name, child, ms) for child, ms in children if not child.startswith("gateway"))
        pending[depth].append((name, cumulative_us / 1000))
    # What the function's app.py (loaded by path, so not in the output) and its first request imported directly.
    edges.extend(
        ("app.py / 1st request", child, ms)
        for child, ms in pending.get(0, [])
        if not child.startswith(("gateway", "dev"))  # dev.*: the bench's own harness
    )
    per_package.pop("dev", None)
    ranked = sorted(per_package.items(), key=lambda item: -item[1])[:top]
    heaviest = sorted(edges, key=lambda edge: -edge[2])[:top]
    return ImportProfile(sum(per_package.values()), ranked, heaviest)


# --------------------------------------------------------------------------- the run


@contextlib.contextmanager
def local_stack() -> Iterator[dict[str, str]]:
    """A moto server (provisioned from template.yaml) and the provider emulator, on loopback; yields the env."""
    from dev.aws_stack import provision, start_moto_server
    from dev.emulator import ProviderEmulator
    from dev.local_env import AWS_DUMMY, local_setup

    saved = dict(os.environ)
    os.environ.update(AWS_DUMMY)
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(key, None)
    server, moto_url = start_moto_server()
    emulator = ProviderEmulator(host="127.0.0.1").start()
    try:
        os.environ["AWS_ENDPOINT_URL"] = moto_url
        resources = provision()
        setup = local_setup({}, emulator.url, resources)  # {}: never the caller's real keys
        provision(secret_values=setup.secret_values)
        yield {**AWS_DUMMY, "AWS_ENDPOINT_URL": moto_url, **setup.environment}
    finally:
        emulator.stop()
        server.stop()
        os.environ.clear()
        os.environ.update(saved)


def cold_spec(case: Case, packages: list[str]) -> dict[str, Any]:
    """What a fresh handler process is told to do for one cold start."""
    built = (LAYER_BUILD / "python").is_dir()
    return {
        "mode": "cold",
        "function": case.function,
        "method": case.method,
        "path": case.path,
        "body": case.body(),
        "layer_packages": packages,
        "layer_build": str(LAYER_BUILD) if built else None,
    }


def measure_cold(
    figures: Figures, handler: HandlerPython, env: dict[str, str], peer: Path | None, runs: int, packages: list[str]
) -> None:
    peer_env = {**env, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_LOG": "ERROR"}
    for run in range(runs):  # round-robin, so drift hits every function alike
        for case in CASES:
            spec = {**cold_spec(case, packages), "compile": run == 0}  # the same on every run: measured once
            result, _ = run_handler(handler, spec, env)
            gateway = Path(result["gateway_file"] or "")
            if not gateway.is_relative_to(LAYER_SOURCE):  # the working tree's gateway, not a copy
                raise RuntimeError(f"{case.label} imported the gateway from {gateway}, not from {LAYER_SOURCE}")
            if result["status"] != 200:
                raise RuntimeError(f"{case.label} answered {result['status']}: {result['body']}")
            if case.model_path and not result["attempts"]:
                raise RuntimeError(f"{case.label} answered with no provider attempt (from a cache?): {result['body']}")
            figures.cold[case.label].append(result)
        if peer is not None:
            result, _ = run_child(peer, LITELLM_CHILD, {"mode": "cold"}, peer_env)
            figures.cold["litellm"].append(result)
            figures.litellm_version = str(result.get("version", LITELLM_VERSION))
        print(f"  cold run {run + 1}/{runs} done", flush=True)


def measure_warm(
    figures: Figures, handler: HandlerPython, env: dict[str, str], peer: Path | None, requests: int
) -> None:
    spec = {"mode": "warm", "requests": requests}
    figures.warm, _ = run_handler(handler, spec, env)
    if peer is not None:
        peer_env = {**env, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_LOG": "ERROR"}
        figures.peer_warm, _ = run_child(peer, LITELLM_CHILD, {"mode": "warm", "requests": requests}, peer_env)


def measure_paths(figures: Figures, handler: HandlerPython, env: dict[str, str], requests: int) -> None:
    figures.paths, _ = run_handler(handler, {"mode": "paths", "requests": requests}, env)


def function_memory_mb() -> int:
    from dev.aws_stack import load_template

    return int(load_template()["Globals"]["Function"]["MemorySize"])


def report_paths(figures: Figures, checks: list[Check], requests: int) -> None:
    paths = figures.paths
    print(
        f"\n5. Paths of a route request: medians of {requests} each in one warm process; AWS round trips (calls made"
        " at the same time count as one) before the provider call, calls while it answered, round trips after it"
    )
    print(f"{'path':<10}{'before':>8}{'during':>8}{'after':>7}{'calls':>7}{'WRU':>6}{'RRU':>6}{'log B':>7}"
          f"{'p50':>10}{'p99':>10}  calls in order (one request)")  # fmt: skip
    for name, got in paths.items():
        print(
            f"{name:<10}{got['before']:>8.0f}{got['during']:>8.0f}{got['after']:>7.0f}{got['calls']:>7.0f}"
            f"{got['wru']:>6.1f}{got['rru']:>6.1f}{got['log_bytes']:>7.0f}{got['ms']:>7.2f} ms{got['p99_ms']:>7.2f} ms"
            f"  {got['operations']}"
        )
    print("  hit: no provider call, so its read and its write are both 'before'; job: two invocations (the POST")
    print("  stores the job and queues it; the SQS event answers it), counted together.")
    miss = paths.get("miss")
    if miss:
        for side in ("before", "after"):
            checks.append(
                Check(
                    f"AWS round trips on a miss, {side} the provider call",
                    miss[side] <= ROUND_TRIPS_MAX,
                    f"{miss[side]:.0f}",
                    f"<= {ROUND_TRIPS_MAX}",
                    f"{miss[side] - ROUND_TRIPS_MAX:.0f} too many",
                )
            )
    sampled = paths.get("sampled")
    if sampled:
        cache_calls = [op for op in sampled["operations"].split() if op in ("GetItem", "BatchWriteItem")]
        checks.append(
            Check(
                "cache calls of an answer that cannot be cached (temperature 0.7)",
                not cache_calls,
                f"{len(cache_calls)} ({sampled['operations'] or 'no call'})",
                "0",
                f"{len(cache_calls)} made",
            )
        )
    print("\nThe bill per million requests")
    for line in bill.report(paths, function_memory_mb()):
        print("  " + line)


def cold_median(figures: Figures, label: str, key: str = "total_ms") -> float:
    return median([float(r[key]) for r in figures.cold[label]])


def report_cold(figures: Figures, checks: list[Check], runs: int, handler: HandlerPython) -> None:
    print(f"\n1+4. Cold start: spawn -> first answer, median of {runs} fresh processes; peak RSS after it")
    print(textwrap.fill(f"on: {handler.description}", 116, initial_indent="  ", subsequent_indent="    "))
    header = f"{'function':<19}{'request':<24}{'cold':>9}{'import':>9}{'1st req':>9}{'RSS MiB':>9}{'+pyc*':>8}"
    print(header + f"{'LiteLLM/x':>11}")
    litellm_ms = cold_median(figures, "litellm") if figures.cold.get("litellm") else None
    for case in CASES:
        runs_of = figures.cold[case.label]
        cold_ms = cold_median(figures, case.label)
        ratio = f"{litellm_ms / cold_ms:>10.1f}x" if litellm_ms else f"{'-':>11}"
        print(
            f"{case.label:<19}{case.method + ' ' + case.path:<24}{cold_ms:>6.0f} ms"
            f"{cold_median(figures, case.label, 'import_ms'):>6.0f} ms"
            f"{cold_median(figures, case.label, 'first_request_ms'):>6.0f} ms"
            f"{max(float(r['peak_rss_mib']) for r in runs_of):>9.1f}"
            f"{figures.cold[case.label][0]['compile_ms'] or 0:>5.0f} ms{ratio}"
        )
        first = figures.cold[case.label][0]
        checks.append(
            Check(
                f"imported layer modules with a python3.12 .pyc, {case.label}",
                first["layer_modules_pyc"] == first["layer_modules"] and not first["layer_modules_absent"],
                f"{first['layer_modules_pyc']} of {first['layer_modules']}",
                "all",
                f"{first['layer_modules'] - first['layer_modules_pyc']} compiled at every cold start",
            )
        )
        if litellm_ms:
            ratio_value = litellm_ms / cold_ms
            checks.append(
                Check(
                    f"cold start {case.label} >= {COLD_RATIO_MIN:g}x faster than LiteLLM",
                    ratio_value >= COLD_RATIO_MIN,
                    f"{ratio_value:.1f}x ({cold_ms:.0f} ms vs {litellm_ms:.0f} ms)",
                    f">= {COLD_RATIO_MIN:g}x",
                    f"{cold_ms - litellm_ms / COLD_RATIO_MIN:.0f} ms too slow",
                )
            )
        rss = max(float(r["peak_rss_mib"]) for r in runs_of)
        checks.append(
            Check(
                f"peak RSS {case.label} < {RSS_MAX_MIB:g} MiB",
                rss < RSS_MAX_MIB,
                f"{rss:.1f} MiB",
                f"< {RSS_MAX_MIB:g} MiB",
                f"{rss - RSS_MAX_MIB:.1f} MiB over",
            )
        )
    if litellm_ms:
        name = f"LiteLLM {figures.litellm_version}"
        rss = max(float(r["peak_rss_mib"]) for r in figures.cold["litellm"])
        print(
            f"{name:<19}{'import + Router call':<24}{litellm_ms:>6.0f} ms"
            f"{cold_median(figures, 'litellm', 'import_ms'):>6.0f} ms"
            f"{cold_median(figures, 'litellm', 'first_request_ms'):>6.0f} ms{rss:>9.1f}{'':>8}{'1.0x':>11}"
        )
    print("  first request, medians:        1st req   provider    AWS calls (moto)   boto3 clients created")
    for case in CASES:

        def med(key: str, label: str = case.label) -> float:
            return cold_median(figures, label, key)

        print(
            f"  {case.label:<29}{med('first_request_ms'):>5.0f} ms{med('attempt_ms'):>8.0f} ms"
            f"{med('aws_calls'):>6.0f} in {med('aws_ms'):>4.0f} ms"
            f"{med('clients'):>7.0f} in {med('client_ms'):>4.0f} ms ({med('clients_at_import'):.0f} at import)"
        )
    route = figures.cold["route"][0]
    print(
        "  cold = interpreter start + handler import + first request (moto + emulator on loopback).\n"
        "  * +pyc: compiling from source the imported layer modules that the built layer ships no python3.12 .pyc\n"
        "    for, which Lambda repeats at every cold start (/opt is read-only); not in 'cold' (local .pyc).\n"
        f"    route: {route['layer_modules_pyc']} of {route['layer_modules']} imported layer modules have one;"
        f" compiling all {route['layer_modules']} (a layer without bytecode)"
        f" costs {route['compile_all_ms'] or 0:.0f} ms."
    )
    if not LAYER_BUILD.is_dir():
        print("    (no built layer: every module counted as needing compiling; build it with `make template`)")
    absent = sorted({module for case in CASES for module in figures.cold[case.label][0]["layer_modules_absent"]})
    if absent:
        shown = ", ".join(absent[:8]) + (f" and {len(absent) - 8} more" if len(absent) > 8 else "")
        print(f"    imported here but not in the built layer (another version, or left out): {shown}")
    route_ms, health_ms = cold_median(figures, "route"), cold_median(figures, "status /health")
    share = health_ms / route_ms
    checks.append(
        Check(
            f"cold start status /health <= {HEALTH_SHARE_MAX:g} of route's",
            share <= HEALTH_SHARE_MAX,
            f"{share:.2f} ({health_ms:.0f} ms vs {route_ms:.0f} ms)",
            f"<= {HEALTH_SHARE_MAX:g}",
            f"{health_ms - route_ms * HEALTH_SHARE_MAX:.0f} ms too slow",
        )
    )


def report_warm(figures: Figures, checks: list[Check], requests: int) -> None:
    warm = figures.warm
    own = [
        r - a - s for r, a, s in zip(warm["route_ms"], warm["attempt_ms"], warm["aws_ms"], strict=True)
    ]  # the gateway's own time per request, the AWS SDK's CPU for its calls included
    sdk = warm.get("sdk_ms") or [0.0] * len(own)
    code = [o - k for o, k in zip(own, sdk, strict=True)]  # the same without the SDK's CPU
    calls = median(warm["aws_calls"])
    print(
        f"\n2. Warm, per request ({requests} requests after 20 warm-up; one process on the cold starts' packages,"
        " route and floor interleaved)"
    )
    print(f"{'series':<66}{'p50':>9}{'p99':>10}")
    rows = [
        ("route handler, whole invocation", warm["route_ms"]),
        ("  less provider attempts (attempts[].latency_ms: SDK + loopback)", warm["attempt_ms"]),
        (f"  less AWS calls on the handler thread ({calls:.0f}/request: network + moto)", warm["aws_ms"]),
        ("  = gateway overhead: its own CPU", own),
        (f"      of which the AWS SDK's (validate, serialize, sign; {calls:.0f} calls)", sdk),
        ("      of which the gateway's code", code),
        ("bare FastAPI + Mangum floor (returns a constant)", warm["floor_ms"]),
    ]
    if figures.peer_warm:
        peer_name = f"LiteLLM {figures.litellm_version} Router.completion, mock_response"
        rows.append((peer_name, figures.peer_warm["router_ms"]))
    for name, values in rows:
        print(f"{name:<66}{median(values):>6.2f} ms{p99(values):>7.2f} ms")
    above50 = median(own) - median(warm["floor_ms"])
    above99 = p99(own) - p99(warm["floor_ms"])
    print(f"{'gateway overhead above the floor':<66}{above50:>+6.2f} ms{above99:>+7.2f} ms")
    code50 = median(code) - median(warm["floor_ms"])
    code99 = p99(code) - p99(warm["floor_ms"])
    print(f"{'  the same without the AWS SDK CPU (the gateway code alone)':<66}{code50:>+6.2f} ms{code99:>+7.2f} ms")
    if figures.peer_warm:
        peer = figures.peer_warm["router_ms"]
        print(
            f"{'gateway overhead / LiteLLM Router call':<66}{median(own) / median(peer):>7.1f}x"
            f"{p99(own) / p99(peer):>9.1f}x"
        )
    if figures.peer_warm:
        own50, peer50 = median(own), median(figures.peer_warm["router_ms"])
        checks.append(
            Check(
                "warm: the gateway's own CPU below LiteLLM's Router call, p50",
                own50 < peer50,
                f"{own50:.2f} ms vs {peer50:.2f} ms",
                "< LiteLLM's",
                f"{own50 - peer50:.2f} ms over",
            )
        )
    if warm.get("other_thread_aws_calls"):
        print(f"  ({warm['other_thread_aws_calls']} AWS calls ran on other threads, overlapping; not subtracted)")
    for label, value, limit in (("p50", above50, WARM_P50_MAX_MS), ("p99", above99, WARM_P99_MAX_MS)):
        checks.append(
            Check(
                f"warm overhead above the floor, {label}",
                value <= limit,
                f"{value:+.2f} ms",
                f"<= +{limit:g} ms",
                f"{value - limit:.2f} ms over",
            )
        )


def report_sizes(checks: list[Check], built: str = "") -> None:
    print("\n3. Size" + (f" (the layer {built})" if built else ""))
    if (LAYER_BUILD / "python").is_dir():
        unzipped = tree_bytes(LAYER_BUILD, pycache=True) / MIB
        zipped = zipped_bytes(LAYER_BUILD, pycache=True) / MIB
        bare_unzipped = tree_bytes(LAYER_BUILD) / MIB
        bare_zipped = zipped_bytes(LAYER_BUILD) / MIB
        sources, compiled = bytecode_coverage(LAYER_BUILD / "python")
        age_min = (time.time() - LAYER_BUILD.stat().st_mtime) / 60
        sizes = package_sizes(LAYER_BUILD / "python")
        largest = ", ".join(
            f"{name} {size / MIB:.1f}"
            for name, size in sorted(sizes.items(), key=lambda item: -item[1])[:5]
            if not name.endswith(".dist-info")
        )
        print(
            f"built layer (ProvidersLayer, built {age_min:.0f} min ago), as shipped (with __pycache__)"
            f"  unzipped {unzipped:.1f} MiB, zipped {zipped:.1f} MiB"
        )
        print(
            f"  without __pycache__  unzipped {bare_unzipped:.1f} MiB, zipped {bare_zipped:.1f} MiB;"
            f" {compiled} of {sources} .py files have a python3.12 .pyc"
        )
        print(f"  largest without __pycache__ (MiB): {largest}")
        limits = (("unzipped", unzipped, LAYER_UNZIPPED_MAX_MIB), ("zipped", zipped, LAYER_ZIPPED_MAX_MIB))
        for name, value, limit in limits:
            checks.append(
                Check(
                    f"layer {name} <= {limit:g} MiB",
                    value <= limit,
                    f"{value:.1f} MiB",
                    f"<= {limit:g} MiB",
                    f"{value - limit:.1f} MiB over",
                )
            )
    else:
        where = LAYER_BUILD.relative_to(REPO_ROOT)
        print(f"built layer: not found at {where}; build it with `make template` (skipped)")
    site = litellm_site()
    if site is not None:
        sizes = {name: size for name, size in package_sizes(site).items() if not is_installer(name)}
        total = sum(sizes.values()) / MIB
        runtime = sum(size for name, size in sizes.items() if name.split("-", 1)[0] in RUNTIME_PROVIDED) / MIB
        print(
            f"LiteLLM installed (site-packages less pip/setuptools)   {total:6.1f} MiB"
            f"   (of which boto3/botocore/s3transfer {runtime:.1f} MiB)"
        )


def report_profiles(
    handler: HandlerPython, env: dict[str, str], checks: list[Check], force: bool, packages: list[str]
) -> None:
    missed = {check.name for check in checks if not check.ok}
    wanted = [
        case
        for case in CASES
        if force or any(case.label in name and ("cold start" in name or "RSS" in name) for name in missed)
    ]
    if "status /health" not in [c.label for c in wanted] and any("/health <=" in name for name in missed):
        wanted.append(next(c for c in CASES if c.label == "status /health"))
    for case in wanted:
        spec = cold_spec(case, packages)
        _, stderr = run_handler(handler, spec, env, importtime=True)
        profile = import_profile(stderr)
        print(f"\nImport profile, {case.label}: python -X importtime, handler import + first request")
        print(f"  all imports {profile.total_ms:.0f} ms; self ms per package:")
        print("    " + ", ".join(f"{name} {ms:.0f}" for name, ms in profile.by_package))
        print("  heaviest imports the gateway makes (cumulative ms, paid by the first importer):")
        for importer, imported, ms in profile.edges:
            print(f"    {ms:6.0f}  {importer} -> {imported}")


def print_checks(checks: list[Check]) -> None:
    print("\nTargets")
    width = max(len(check.name) for check in checks)
    for check in checks:
        verdict = "pass" if check.ok else "MISS"
        miss = f"  ({check.miss})" if not check.ok else ""
        print(f"  [{verdict}] {check.name:<{width}}  {check.measured:<32} target {check.target}{miss}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.perf", description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per function for the cold start")
    parser.add_argument("--requests", type=int, default=300, help="warm requests per series")
    parser.add_argument("--no-litellm", action="store_true", help="skip LiteLLM (no install, no peer figures)")
    parser.add_argument("--profile", action="store_true", help="import profiles for every function")
    parser.add_argument("--path-requests", type=int, default=PATH_REQUESTS, help="requests per path (section 5)")
    parser.add_argument(
        "--dev-venv",
        action="store_true",
        help="run the handler processes in the dev virtualenv, not on the layer's packages (for comparison)",
    )
    args = parser.parse_args(argv)

    started = time.monotonic()
    built = ensure_layer_build()
    handler = dev_venv("--dev-venv") if args.dev_venv else ensure_layer_host()
    peer = None if args.no_litellm else ensure_litellm()
    cpu = platform.machine()
    print(
        f"AI gateway performance: {cpu}, Python {platform.python_version()}"
        f" (Lambda runs python3.12 on arm64); LiteLLM {LITELLM_VERSION if peer else 'skipped'}; {load()}"
    )
    # The built layer's packages; before `make template`, the mirror's (same names)
    packages = layer_packages() or (layer_packages(handler.layer) if handler.layer else [])
    checks: list[Check] = []
    figures = Figures()
    with local_stack() as stack_env:
        child_env = child_environment(stack_env)
        measure_cold(figures, handler, child_env, peer, args.runs, packages)
        measure_warm(figures, handler, child_env, peer, args.requests)
        measure_paths(figures, handler, child_env, args.path_requests)
        report_cold(figures, checks, args.runs, handler)
        report_warm(figures, checks, args.requests)
        report_sizes(checks, built)
        report_paths(figures, checks, args.path_requests)
        if peer is None:
            print("  (LiteLLM skipped: no cold-start ratio, no peer)")
        print_checks(checks)
        report_profiles(handler, child_env, checks, args.profile, packages)
    missed = sum(not check.ok for check in checks)
    print(f"\n{len(checks) - missed} targets met, {missed} missed; {time.monotonic() - started:.0f} s; {load()}")
    print("command: .venv/bin/python -m bench.perf" + (" " + " ".join(sys.argv[1:]) if sys.argv[1:] else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
