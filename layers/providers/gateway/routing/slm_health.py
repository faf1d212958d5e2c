"""Whether the sLM is worth trying first: the scheduled probe's last verdict, read at most every 30 s.

The circuit breaker keeps a failing sLM out of the chain too; this keeps it out before any request has
failed on it, from the probe's own call.
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
    if cached is not None and time.monotonic() - cached[0] < PROBE_CACHE_S:
        return cached[1]
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
