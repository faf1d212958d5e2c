"""The local stack does what AWS does between requests, over HTTP and from the shell, as a new user would try it:
the schedule has probed the providers by the time `make run` prints its banner, `make invoke` works against the
running stack, and the banner's fallback demo shows a fallback."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

from dev.lambda_runtime import REPO_ROOT
from dev.local_env import AWS_DUMMY
from dev.stack_process import LocalStackProcess

pytestmark = pytest.mark.e2e
EVENTS = REPO_ROOT / "events"


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStackProcess]:
    with LocalStackProcess() as running:
        yield running


def _providers(stack: LocalStackProcess) -> dict[str, Any]:
    status = httpx.get(f"{stack.url}/v1/status", timeout=30).json()
    return {p["name"]: p for p in status["providers"]}


def test_the_schedule_has_probed_every_provider_when_the_banner_is_printed(stack: LocalStackProcess) -> None:
    # When /v1/status is read right after `make run` says it is up
    providers = _providers(stack)
    # Then every provider shows a probe: the template's schedule ran once at start-up
    assert {name: p["last_probe"]["outcome"] for name, p in providers.items()} == {
        "slm": "ok",
        "gemini": "ok",
        "huggingface": "ok",
    }
    # and the banner says how to run it on demand, which probes again
    assert f"curl -s -X POST {stack.url}/__local/schedules/Probe" in stack.output()
    with httpx.Client(timeout=30) as client:
        listed = client.get(f"{stack.url}/__local/schedules").json()["schedules"]
        ran = client.post(f"{stack.url}/__local/schedules/Probe")
    assert listed == [{"name": "Probe", "function": "status", "schedule": "rate(5 minutes)"}]
    assert ran.status_code == 200
    assert ran.headers["x-request-id"]
    assert {p["provider"] for p in ran.json()["result"]["probed"]} == {"slm", "gemini", "huggingface"}


def _invoke(stack: LocalStackProcess, function: str, event: str, *args: str) -> tuple[dict[str, Any], str]:
    """`make invoke FUNCTION=<function> EVENT=events/<event>` in a shell of its own, with `make run`'s PORT."""
    env = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    env |= {"PORT": str(stack.port), "NO_PROXY": "*", "PYTHONPATH": str(REPO_ROOT)}
    command = [sys.executable, "-m", "dev.invoke", function, f"events/{event}", *args]
    done = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120, check=True)
    lines = done.stdout.splitlines()
    start = max(i for i, line in enumerate(lines) if line == "{")  # the response, printed last (logs before it)
    response: dict[str, Any] = json.loads("\n".join(lines[start:]))
    return response, done.stderr + done.stdout


def test_make_invoke_uses_the_running_stacks_moto_and_emulator(stack: LocalStackProcess) -> None:
    # Given the running stack has no job job-0001, and the event that reads it says how to create it
    _, said = _invoke(stack, "route", "route_job_get.json")
    assert "create it first: `make invoke FUNCTION=route EVENT=events/sqs_route_jobs.json`" in said
    assert f"using the running local stack at {stack.url}" in said
    # When the queued jobs are handed to the route function by `make invoke`, as the note says
    batch, _ = _invoke(stack, "route", "sqs_route_jobs.json")
    assert batch == {"batchItemFailures": []}
    # Then `make invoke` reads the job back from the stack, and so does the running gateway over HTTP
    answer, _ = _invoke(stack, "route", "route_job_get.json")
    assert answer["statusCode"] == 200, answer
    assert (answer["body"]["job_id"], answer["body"]["status"]) == ("job-0001", "done")
    over_http = httpx.get(f"{stack.url}/v1/jobs/job-0001", timeout=30)
    assert over_http.json()["status"] == "done"


def test_a_stream_event_can_write_the_interaction_it_records_and_the_detector_settles_it(
    stack: LocalStackProcess,
) -> None:
    # When the interactions stream's event is invoked with its NewImage written first
    result, output = _invoke(stack, "training_consumer", "dynamodb_new_interaction.json", "--put-images")
    # Then the detector compares it and settles it (it no longer finds it expired) in the stack's table
    assert result == {"batchItemFailures": []}
    assert "expired" not in output
    record = json.loads((EVENTS / "dynamodb_new_interaction.json").read_text())["Records"][0]["dynamodb"]
    info = httpx.get(f"{stack.url}/__local/stack", timeout=10).json()
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=info["aws_endpoint_url"],
        aws_access_key_id=AWS_DUMMY["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=AWS_DUMMY["AWS_SECRET_ACCESS_KEY"],
        region_name=AWS_DUMMY["AWS_DEFAULT_REGION"],
    )
    item = dynamodb.get_item(TableName=info["resources"]["InteractionsTable"], Key=record["Keys"])["Item"]
    assert "embedding" in item
    assert "prompt" not in item  # settled: the prompt is dropped once embedded


def _banner_commands(output: str) -> list[str]:
    """The banner's commands (from "Try:" to its last line), continued lines joined, comments kept."""
    text = output[output.index("Try:\n") + len("Try:\n") :].replace("\\\n", " ")
    lines = text.splitlines()
    last = next(i for i, line in enumerate(lines) if line.startswith("curl -s -X DELETE"))
    return [line for line in lines[: last + 1] if line.startswith(("curl ", "#"))]


def _sh(command: str, cwd: Path) -> str:
    done = subprocess.run(["bash", "-c", command], cwd=cwd, capture_output=True, text=True, timeout=60, check=True)
    return done.stdout


def test_the_banners_fallback_demo_shows_the_fallback_not_a_cached_answer(stack: LocalStackProcess) -> None:
    commands = _banner_commands(stack.output())
    demo = commands[next(i for i, c in enumerate(commands) if c.startswith("# make the emulator fail")) + 1 :]
    first_route = next(c for c in commands if re.search(r"/v1/route ", c))
    try:
        # Given the banner's route example, answered (and cached) once as a new user would try it first
        assert json.loads(_sh(first_route, REPO_ROOT))["provider"] == "slm"
        # When the demo's commands are run as printed, the fault first
        outputs = [_sh(command, REPO_ROOT) for command in demo if "-X DELETE" not in command]
    finally:
        _sh(next(c for c in demo if "-X DELETE" in c), REPO_ROOT)
    # Then the last answer shows the fallback: the sLM failed, another provider answered, nothing from the cache
    answer = json.loads(outputs[-1])
    assert answer.get("cached") is not True
    assert answer["fallback_used"] is True
    assert answer["attempts"][0] == {**answer["attempts"][0], "provider": "slm", "outcome": "server_error"}
    assert answer["provider"] != "slm"
