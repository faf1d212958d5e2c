"""The clocks shared state is kept by (circuit breakers, spend leases): the system's, unless a test sets its own.

A test that must not lean on wall-clock speed (a cool-down that runs out mid-test on a loaded machine) sets a clock
it advances itself with `use(clock)`; everything that decides by time through `wall()` and `monotonic()` follows
it, including objects built before the switch.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def wall(self) -> float:
        """Seconds since the epoch (what is written to shared state)."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (how old a cached value is)."""
        ...


class SystemClock:
    def wall(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()


_current: Clock = SystemClock()


def wall() -> float:
    return _current.wall()


def monotonic() -> float:
    return _current.monotonic()


def use(clock: Clock | None) -> None:
    """Decide by `clock` from now on (None: the system's again)."""
    global _current
    _current = clock if clock is not None else SystemClock()
