"""A clock the test controls, for the shared state that decides by time (breaker cool-downs, spend leases)."""

from __future__ import annotations

import time


class ManualClock:
    """Starts at the system's time and moves only when told: a cool-down cannot run out mid-test on a slow machine."""

    def __init__(self, start: float | None = None) -> None:
        """`start`: the wall clock's first reading (the system's time by default); the monotonic one starts there too
        when it is given, so that two runs of a test see the same times."""
        self._wall = time.time() if start is None else start
        self._monotonic = time.monotonic() if start is None else start

    def wall(self) -> float:
        return self._wall

    def monotonic(self) -> float:
        return self._monotonic

    def advance(self, seconds: float) -> None:
        self._wall += seconds
        self._monotonic += seconds
