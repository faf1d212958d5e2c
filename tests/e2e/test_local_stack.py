"""The two-command promise: `make run` serves every endpoint over HTTP, and `make invoke` runs a handler."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


def _child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY") and not k.startswith("SLM_")}
    env.pop("AWS_ENDPOINT_URL", None)
    return env


@dataclass
class LocalStack:
    url: str
    emulator_url: str
    banner: str


@pytest.fixture(scope="module")
def local_stack() -> Iterator[LocalStack]:
    process = subprocess.Popen(  # ports the child binds itself (0) and prints: none can be taken in between
        [sys.executable, "-m", "dev.run_local", "--port", "0", "--ws-port", "0"],
        cwd=REPO_ROOT, env=_child_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith("curl -s -X DELETE"):  # the last line of the banner
            break
    banner = "".join(lines)
    found = re.search(r"provider emulator at (http://\S+?)\)", banner)
    api = re.search(r"AI gateway running on (http://\S+) ", banner)
    if not found or not api:
        process.kill()
        pytest.fail(f"the local stack did not start:\n{banner}")
    try:
        yield LocalStack(api.group(1), found.group(1), banner)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            pytest.fail("the local stack did not stop on SIGTERM")


def test_the_banner_prints_a_curl_example_for_every_endpoint(local_stack: LocalStack) -> None:
    for path in ("/health", "/v1/status", "/v1/route", "/v1/generate-points", "/v1/handle-error"):
        assert f"{local_stack.url}{path}" in local_stack.banner


def test_every_endpoint_answers_over_http(local_stack: LocalStack) -> None:
    with httpx.Client(base_url=local_stack.url, timeout=30) as client:
        assert client.get("/health").json() == {"status": "ok"}
        status = client.get("/v1/status").json()
        assert {p["name"] for p in status["providers"]} == {"slm", "gemini", "huggingface"}
        route = client.post("/v1/route", json={"user_id": "e2e", "prompt": "Say hello"})
        assert route.status_code == 200
        assert route.json()["provider"] == "slm"
        points = client.post("/v1/generate-points", json={"prompt": "a circle", "context": {"count": 6}})
        assert points.status_code == 200
        assert points.json()["count"] == 6
        analysis = client.post("/v1/handle-error", json={"error": {"message": "ZeroDivisionError: division by zero"}})
        assert analysis.status_code == 200
        assert analysis.json()["fix_steps"]


def test_a_fault_told_to_the_emulator_shows_as_a_fallback(local_stack: LocalStack) -> None:
    with httpx.Client(timeout=30) as client:
        # twice: the gateway retries the sLM once before it falls back (RETRY_MAX_ATTEMPTS=2)
        fault = {"provider": "slm", "kind": "status", "status": 503, "times": 2}
        client.post(f"{local_stack.emulator_url}/__emulator/faults", json=fault).raise_for_status()
        route = client.post(
            f"{local_stack.url}/v1/route",
            json={"user_id": "e2e", "prompt": "Say hello"},
            headers={"Cache-Control": "no-cache"},  # the same prompt was answered before: bypass the cache
        )
    body = route.json()
    assert body["fallback_used"] is True
    outcomes = [(a["provider"], a["outcome"]) for a in body["attempts"]]
    assert outcomes == [("slm", "server_error"), ("slm", "server_error"), (body["provider"], "ok")]
    assert body["provider"] != "slm"


def test_a_fault_told_to_the_aws_fault_injector_reaches_the_client(local_stack: LocalStack) -> None:
    injector = re.search(r"AWS fault injector .* at (http://\S+?)/__aws_faults/", local_stack.banner)
    assert injector, local_stack.banner
    faults = f"{injector.group(1)}/__aws_faults/faults"
    with httpx.Client(timeout=30) as client:
        # Given DynamoDB throttling every write to the jobs table
        fault = {"service": "dynamodb", "operation": "PutItem", "table": "JobsTable", "error": "throttle"}
        client.post(faults, json=fault).raise_for_status()
        try:
            posted = client.post(f"{local_stack.url}/v1/jobs", json={"user_id": "e2e", "prompt": "Say hello"})
        finally:
            client.delete(faults).raise_for_status()
        stats = client.get(f"{injector.group(1)}/__aws_faults/stats").json()["stats"]
    # Then the client is told the job could not be stored (and to send it again), not a bare 500
    assert posted.status_code == 503
    assert posted.json()["error"]["code"] == "store_unavailable"
    assert stats["injected:PutItem"] >= 1


def test_errors_over_http_keep_the_error_shape(local_stack: LocalStack) -> None:
    with httpx.Client(base_url=local_stack.url, timeout=30) as client:
        invalid = client.post("/v1/route", content=b"{}", headers={"Content-Type": "application/json"})
        unknown = client.get("/v1/nothing-here")
    assert invalid.status_code == 422
    assert {"code", "message", "request_id", "details"} <= set(invalid.json()["error"])
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "not_found"


def test_make_invoke_runs_a_handler_with_an_event_file() -> None:
    done = subprocess.run(
        # --isolated: its own moto and emulator, even if a `make run` is up on port 3000
        [sys.executable, "-m", "dev.invoke", "generate_points", "events/generate_points.json", "--isolated"],
        cwd=REPO_ROOT, env=_child_env(), capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    response = json.loads(done.stdout[done.stdout.index('{\n  "statusCode"') :])
    assert response["statusCode"] == 200
    assert response["body"]["count"] == 12


def test_a_request_without_an_api_key_is_served_as_the_first_local_key(local_stack: LocalStack) -> None:
    # Given the stack's two keys, as the banner prints them
    found = re.search(
        r"API keys \(x-api-key or a bearer token\): (\S+) \(id (\w+)\), (\S+) \(id (\w+)\)", local_stack.banner
    )
    assert found, local_stack.banner
    first_value, first_id = found.group(1), found.group(2)
    # When a request comes without a key, and another with the first key
    with httpx.Client(base_url=local_stack.url, timeout=30) as client:
        unkeyed = client.get("/v1/usage").json()
        keyed = client.get("/v1/usage", headers={"x-api-key": first_value}).json()
    # Then both are the first key's
    assert unkeyed["api_key_id"] == keyed["api_key_id"] == first_id
    assert "a request without one is served as the first key's" in local_stack.banner
