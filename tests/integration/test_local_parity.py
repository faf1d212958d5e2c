"""What the local stack does that AWS does too: the local API's own answers carry the headers every answer carries,
and the template's schedules run (once at start-up, at their rate, on demand), through the real handlers."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from dev.local_api import LocalApi
from dev.schedules import Scheduler, schedules_from_template
from tests.conftest import Gateway, load_event
from tests.security.test_http_surface import SECURITY_HEADERS


@pytest.fixture
def local_api(gateway: Gateway) -> Iterator[LocalApi]:
    api = LocalApi(port=0).start()
    yield api
    api.stop()


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [("GET", "/v1/nothing-here", 404, "not_found"), ("DELETE", "/v1/status", 405, "method_not_allowed")],
)
def test_the_local_apis_own_errors_carry_the_request_id_and_the_security_headers(
    local_api: LocalApi, method: str, path: str, status: int, code: str
) -> None:
    with httpx.Client(base_url=local_api.url, timeout=10) as client:
        # When a path or method the template does not route is asked for, with the client's id and without
        echoed = client.request(method, path, headers={"X-Request-Id": "client-id-42"})
        fresh = client.request(method, path)
    # Then the answer is the error shape with the client's id echoed (a new one when it sent none) ...
    for answer in (echoed, fresh):
        assert answer.status_code == status
        assert answer.json()["error"]["code"] == code
        assert answer.json()["error"]["request_id"] == answer.headers["x-request-id"]
        # ... and the security headers every answer carries
        assert SECURITY_HEADERS.items() <= {k.lower(): v for k, v in answer.headers.items()}.items()
    assert echoed.headers["x-request-id"] == "client-id-42"
    assert fresh.headers["x-request-id"] not in ("", "client-id-42")
    if status == 405:
        assert echoed.headers["allow"] == "GET, OPTIONS"


def _last_probes(gateway: Gateway) -> dict[str, int | None]:
    providers = gateway.call("status", load_event("status")).body["providers"]
    return {p["name"]: (p["last_probe"] or {}).get("probed_at") for p in providers}


def test_the_templates_schedule_runs_at_start_up_at_its_rate_and_on_demand(gateway: Gateway) -> None:
    # Given the template's schedules, played with a clock the test moves
    now = [1000.0]
    scheduler = Scheduler(schedules_from_template(), gateway.invoke, clock=lambda: now[0])
    [probe] = scheduler.schedules.values()
    assert (probe.function, probe.interval_s) == ("status", 300)
    assert set(_last_probes(gateway).values()) == {None}
    # When the stack starts
    started = scheduler.run_due()
    # Then the probe runs at once, and /v1/status shows every provider's probe
    assert [run.schedule for run in started] == ["Probe"]
    assert None not in _last_probes(gateway).values()
    calls = len(gateway.emulator.calls)
    # and not again before its rate is up, then again when it is
    now[0] += 299
    assert scheduler.run_due() == []
    now[0] += 1
    assert [run.schedule for run in scheduler.run_due()] == ["Probe"]
    assert len(gateway.emulator.calls) == 2 * calls
    # and on demand, as the local API's /__local/schedules/Probe runs it
    status, answer = scheduler.control("POST", "Probe")
    assert status == 200
    assert {p["provider"] for p in answer["result"]["probed"]} == {"slm", "gemini", "huggingface"}
    assert len(gateway.emulator.calls) == 3 * calls
    status, answer = scheduler.control("POST", "Nightly")
    assert status == 404
    assert "the template's schedules: Probe" in answer["error"]["message"]


def test_a_failing_scheduled_run_is_reported_and_the_schedule_keeps_its_rate(gateway: Gateway) -> None:
    def broken(function: str, event: dict[str, object]) -> dict[str, object]:
        raise RuntimeError("the probe could not run")

    now = [0.0]
    scheduler = Scheduler(schedules_from_template(), broken, clock=lambda: now[0])
    [run] = scheduler.run_due()
    assert run.error == "RuntimeError: the probe could not run"
    assert json.dumps(run.as_dict())
    assert scheduler.seconds_to_next() == 300
