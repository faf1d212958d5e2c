"""What each API key used today, counted where every provider call is settled (`gateway.resilience.spend`) and
written at the end of each request (`Resilience.finish`): one `ADD` on the key's day (`gateway.stores.usage`).

A write per request that had a key, on that key's own item: DynamoDB takes about a thousand a second on one item,
far above what a key's usage plan lets it send (tens a second), and a write that fails is kept and added to the next
one, never dropped. Exact at once, unlike the spend ledger's `spent` (which trails by a lease period): `GET /v1/usage`
reads it.
"""

from __future__ import annotations

import threading

from aws_lambda_powertools.metrics import MetricUnit

from gateway.core import clock
from gateway.observability import logger, metrics
from gateway.stores.usage import RETENTION_S, DayUsage, ModelUsage, UsageStore


class UsageMeter:
    """This instance's counts not yet written, per (day, API key id)."""

    def __init__(self, store: UsageStore) -> None:
        self._store = store
        self._pending: dict[tuple[str, str], DayUsage] = {}
        self._lock = threading.Lock()

    def count_request(self, day: str, api_key_id: str) -> None:
        with self._lock:
            self._pending.setdefault((day, api_key_id), DayUsage()).requests += 1

    def count_call(
        self, day: str, api_key_id: str, provider: str, model: str, tokens: tuple[int, int], cost_units: int
    ) -> None:
        """One call that reached `provider`: the tokens (in, out) it billed and what they cost (1e-10 USD)."""
        with self._lock:
            usage = self._pending.setdefault((day, api_key_id), DayUsage())
            figures = usage.models.setdefault((provider, model), ModelUsage())
            figures.calls += 1
            figures.input_tokens += tokens[0]
            figures.output_tokens += tokens[1]
            figures.cost_units += cost_units

    def pending(self) -> bool:
        """Whether there are counts not yet written (`flush` has a write to make)."""
        with self._lock:
            return bool(self._pending)

    def flush(self) -> None:
        """Write what was counted, one write per key and day; what cannot be written is kept for the next flush."""
        with self._lock:
            pending, self._pending = self._pending, {}
        for (day, key), usage in pending.items():
            try:
                self._store.add(day, key, usage, int(clock.wall()) + RETENTION_S)
            except Exception as exc:
                logger.error("usage not recorded yet", extra={"api_key_id": key, "error": type(exc).__name__})
                metrics.add_metric(name="UsageNotRecorded", unit=MetricUnit.Count, value=1)
                with self._lock:
                    self._pending.setdefault((day, key), DayUsage()).add(usage)
