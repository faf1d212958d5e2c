"""Whether the sLM is worth trying first: the scheduled probe's last verdict, read at most every 30 s.

The circuit breaker keeps a failing sLM out of the chain too; this keeps it out before any request has
failed on it, from the probe's own call.

The chain (and so the cache key) depends on the verdict, so a request cannot wait for its read at the same time as
the cache read. An instance reads it on its first request; after that a verdict over 30 s old is still used, and
read again at the same time as the request's cache read (`refresh_due`), for the requests after it: one round trip
before the provider call, not two in a row. A verdict older than the probe's own freshness (15 min: an instance
that was idle) is read again before it is used.
"""

from __future__ import annotations

import time

from gateway.core.settings import GatewaySettings
from gateway.observability import logger
from gateway.stores.provider_state import ProviderStateStore

PROBE_FRESH_S = 15 * 60  # a failed probe older than this no longer keeps the sLM out of the chain
# The probe runs every few minutes, so its verdict is read at most once per PROBE_CACHE_S per instance,
# not on every request (the request's one batch read is the circuits').
PROBE_CACHE_S = 30.0
_slm_verdict: dict[str, tuple[float, bool]] = {}


def slm_healthy(settings: GatewaySettings) -> bool:
    """False only when the scheduled probe recently found the sLM failing (unknown counts as healthy)."""
    if not settings.state_table:
        return True
    cached = _slm_verdict.get(settings.state_table)
    if cached is not None and time.monotonic() - cached[0] < PROBE_FRESH_S:
        return cached[1]  # read again with the cache read when over PROBE_CACHE_S old (`refresh_due`)
    return _read(settings)


def refresh_due(settings: GatewaySettings) -> bool:
    """Whether the verdict in use is over `PROBE_CACHE_S` old: `refresh` it alongside the request's other reads."""
    cached = _slm_verdict.get(settings.state_table or "")
    return bool(settings.state_table) and cached is not None and time.monotonic() - cached[0] >= PROBE_CACHE_S


def refresh(settings: GatewaySettings) -> None:
    """Read the verdict again (for the requests after this one)."""
    _read(settings)


def _read(settings: GatewaySettings) -> bool:
    assert settings.state_table
    try:
        probe = ProviderStateStore(settings.state_table).last_probes(["slm"]).get("slm")
    except Exception as exc:
        logger.warning("sLM health unknown", extra={"error": f"{type(exc).__name__}: {exc}"})
        return True
    healthy = probe is None or probe.outcome == "ok" or time.time() - probe.probed_at > PROBE_FRESH_S
    _slm_verdict[settings.state_table] = (time.monotonic(), healthy)
    return healthy


def forget() -> None:
    """Drop the cached verdicts (tests that start a new backend)."""
    _slm_verdict.clear()
