"""The template's EventBridge schedules, played locally: each once at start-up, then at its rate, and on demand.

In AWS a `Schedule` event of a function (`rate(5 minutes)`) invokes it with a "Scheduled Event"; nothing does
that under `make run` unless this does, so `/v1/status` would never show a probe. `cron(...)` expressions run at
start-up and on demand only (their calendar is not played locally). Dev-only: not part of the Lambda layer.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dev.aws_stack import load_template, resources_of_type
from dev.polling import Poller

_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minutes?|hours?|days?)\s*\)$")
_UNIT_S = {"minute": 60, "hour": 3600, "day": 86400}
ACCOUNT, REGION = "123456789012", "us-east-1"

Invoke = Callable[[str, dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Schedule:
    """One `Schedule` event of one function in template.yaml."""

    name: str  # the event's logical id, e.g. Probe
    function: str  # the directory under functions/
    resource: str  # the function's logical id, e.g. StatusFunction
    expression: str  # rate(5 minutes) or cron(...)

    @property
    def interval_s(self) -> float | None:
        """Seconds between runs for a rate; None for a cron expression (not played locally)."""
        found = _RATE.match(self.expression.strip())
        return int(found.group(1)) * _UNIT_S[found.group(2).rstrip("s")] if found else None


def schedules_from_template() -> list[Schedule]:
    """Every enabled `Schedule` event of every function in template.yaml."""
    template = load_template()
    schedules = []
    for resource, function in resources_of_type(template, "AWS::Serverless::Function").items():
        props = function["Properties"]
        directory = str(props["CodeUri"]).rstrip("/").split("/")[-1]
        for name, event in props.get("Events", {}).items():
            event_props = event.get("Properties", {})
            if event.get("Type") == "Schedule" and event_props.get("Enabled", True) is not False:
                schedules.append(Schedule(name, directory, resource, str(event_props["Schedule"])))
    return schedules


def scheduled_event(schedule: Schedule) -> dict[str, Any]:
    """The event EventBridge sends for a schedule (as in events/schedule_status.json)."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/local-{schedule.resource}{schedule.name}"],
        "detail": {},
    }


@dataclass(frozen=True)
class ScheduleRun:
    """What one run of a schedule did: the function's result, or the error it raised."""

    schedule: str
    function: str
    result: dict[str, Any] | None
    error: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"schedule": self.schedule, "function": self.function, "result": self.result, "error": self.error}


class Scheduler(Poller[dict[str, ScheduleRun]]):
    """Runs each schedule when due (`run_due`; on a thread after `start`); `counts`: each schedule's last run.

    `clock` (monotonic seconds) is the test's to control.
    """

    thread_name = "schedules"

    def __init__(self, schedules: list[Schedule], invoke: Invoke, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__("template", {})
        self.schedules = {schedule.name: schedule for schedule in schedules}
        self._invoke = invoke
        self._clock = clock
        self._due: dict[str, float] = {}  # when each schedule runs next; absent: now
        self._lock = threading.Lock()

    def run(self, name: str) -> ScheduleRun:
        """Run one schedule now (on demand); its rate's timetable is unchanged."""
        schedule = self.schedules[name]
        try:
            run = ScheduleRun(name, schedule.function, self._invoke(schedule.function, scheduled_event(schedule)), None)
        except Exception as exc:  # EventBridge would retry; locally the error is reported
            run = ScheduleRun(name, schedule.function, None, f"{type(exc).__name__}: {exc}")
        self.counts[name] = run
        return run

    def run_due(self) -> list[ScheduleRun]:
        """Run every schedule whose time has come (all of them the first time)."""
        runs = []
        with self._lock:
            for name, schedule in self.schedules.items():
                now = self._clock()
                if self._due.get(name, now) <= now:
                    interval = schedule.interval_s
                    self._due[name] = now + interval if interval is not None else float("inf")
                    runs.append(self.run(name))
        return runs

    def seconds_to_next(self) -> float:
        now = self._clock()
        return max(0.0, min((self._due.get(name, now) - now for name in self.schedules), default=float("inf")))

    def poll_once(self) -> int:
        return len(self.run_due())

    def poll_waiting(self) -> int:
        """On the thread: run what is due, then sleep until the next schedule is (a minute at most)."""
        ran = self.poll_once()
        self._stop.wait(min(self.seconds_to_next(), 60.0))
        return ran

    def control(self, method: str, name: str) -> tuple[int, Any]:
        """The local API's `/__local/schedules/<name>`: POST runs it now; GET lists the schedules."""
        if method == "GET" and not name:
            listed = [
                {"name": s.name, "function": s.function, "schedule": s.expression} for s in self.schedules.values()
            ]
            return 200, {"schedules": listed}
        if method != "POST" or name not in self.schedules:
            known = ", ".join(self.schedules) or "none"
            message = f"POST /__local/schedules/<name> runs a schedule now; the template's schedules: {known}"
            return 404, {"error": {"code": "not_found", "message": message}}
        return 200, self.run(name).as_dict()
