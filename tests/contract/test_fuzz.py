"""Schemathesis runs every endpoint of the local stack from the checked-in OpenAPI documents.

One local stack (`python -m dev.run_local` in a child process: moto, the provider emulator, the local API; loopback
only), one `st run` per document, in parallel (each function is its own Lambda worker). Settings, bounds and the
seed are in tests/contract/schemathesis.toml; the gateway's own `error_shape` check is in fuzz_checks.py. Any
failure is reported with Schemathesis's own account (request, response, a curl command to reproduce it) and the
gateway's log lines for unhandled errors.

Reproduce one document by hand against `make run` (port 3000):
    .venv/bin/st --config-file tests/contract/schemathesis.toml run openapi/route.json --url http://127.0.0.1:3000
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from dev.lambda_runtime import REPO_ROOT
from dev.stack_process import LocalStackProcess
from scripts.openapi import OPENAPI_DIR

pytestmark = pytest.mark.e2e
CONFIG = Path(__file__).with_name("schemathesis.toml")
RUN_TIMEOUT_S = 150
MAX_CASES_PER_OPERATION = 120


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStackProcess]:
    with LocalStackProcess() as running:
        yield running


def _schemathesis(document: Path, url: str, workdir: Path) -> tuple[str, int, str]:
    # The working directory is a temporary one: Schemathesis keeps nothing in the repository.
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "NO_PROXY": "*"}
    command = [
        sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG), "--no-color",
        "run", str(document), "--url", url,
    ]  # fmt: skip
    try:
        done = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        partial = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else exc.stdout or ""
        return document.name, -1, f"timed out after {RUN_TIMEOUT_S} s\n{partial}"
    return document.name, done.returncode, done.stdout + done.stderr


def _operations(document: Path) -> int:
    paths = json.loads(document.read_text())["paths"]
    return sum(
        method in ("get", "post", "put", "patch", "delete") for operation in paths.values() for method in operation
    )


def test_schemathesis_finds_no_server_error_and_no_malformed_error(stack: LocalStackProcess, tmp_path: Path) -> None:
    documents = sorted(OPENAPI_DIR.glob("*.json"))
    assert documents, "no OpenAPI document in openapi/: run .venv/bin/python -m scripts.openapi --write"
    with ThreadPoolExecutor(len(documents)) as pool:
        runs = list(pool.map(lambda doc: _schemathesis(doc, stack.url, tmp_path), documents))
    cases = {name: re.findall(r"(\d+) generated", output)[-1:] for name, _, output in runs}
    failed = [(name, code, output) for name, code, output in runs if code != 0]
    unhandled = [line for line in stack.log_lines() if "unhandled error" in line or "Traceback" in line]
    report = "\n\n".join(f"===== {name} (st exit {code})\n{output[-12000:]}" for name, code, output in failed)
    assert not failed, f"{report}\n\nunhandled errors in the gateway's log:\n" + "\n".join(unhandled[:20])
    total = sum(int(found[0]) for found in cases.values() if found)
    operations = sum(_operations(document) for document in documents)
    # Bounded by the settings, per operation: max-examples in each phase, plus the coverage phase's own cases (a
    # large request schema, such as chat completions', gives more of them).
    assert 200 <= total <= MAX_CASES_PER_OPERATION * operations, f"the fuzz run is no longer bounded: {cases}"
