"""The circuit breaker per provider and model, shared by every instance through DynamoDB.

closed -> open after `failure_threshold` failures in a window, and, once the window has at least `min_requests`
calls, a failure rate of at least `failure_rate`; open -> half-open after the cool-down (or a longer Retry-After),
when exactly one instance takes the probe lease; only that lease's probe closes it for all (its failure opens it
again). A call admitted while the circuit was closed, or the scheduled probe's cheap health check, never closes
it: closing goes through the lease, with a call that exercises generation.

Each process reads the state in one batch per request and may reuse it for up to `cache_s` (at most 1 s). It
counts what it sees locally and adds it to the shared item at most once per `flush_s` (the first failure after a
quiet spell at once), so a burst of failures costs each instance a bounded number of writes per second, and the
circuit still opens within about `flush_s + cache_s` of the threshold everywhere. Counts not yet written are
written by the next request that ends after the interval (an instance frozen meanwhile keeps them until it wakes).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

from aws_lambda_powertools.metrics import MetricUnit

from gateway.core import clock
from gateway.core.settings import GatewaySettings
from gateway.observability import logger, metrics
from gateway.providers.base import Outcome, ProviderSpec
from gateway.stores.breakers import BreakerRecord, BreakerStore, breaker_key

# Failures that say the provider is unhealthy. An auth error, an invalid request, a safety block or an
# answer that breaks the schema says nothing about its health, so they do not count.
HEALTH_FAILURES = frozenset(
    {Outcome.TIMEOUT, Outcome.CONNECTION_ERROR, Outcome.RATE_LIMITED, Outcome.SERVER_ERROR, Outcome.MALFORMED_RESPONSE}
)


class Admission(StrEnum):
    ALLOW = "allow"
    PROBE = "probe"  # this request is the half-open probe
    REJECT = "reject"


@dataclass(frozen=True)
class BreakerConfig:
    failure_threshold: int = 5
    failure_rate: float = 0.5
    min_requests: int = 10
    window_s: int = 60
    cooldown_s: float = 30.0
    cache_s: float = 1.0
    flush_s: float = 0.5

    @classmethod
    def from_settings(cls, settings: GatewaySettings) -> BreakerConfig:
        return cls(
            failure_threshold=settings.breaker_failure_threshold,
            failure_rate=settings.breaker_failure_rate,
            min_requests=settings.breaker_min_requests,
            window_s=settings.breaker_window_s,
            cooldown_s=float(settings.breaker_cooldown_s),
            cache_s=settings.breaker_cache_ms / 1000,
            flush_s=settings.breaker_flush_ms / 1000,
        )


@dataclass
class _Counts:
    """What this process saw of one breaker since its last write."""

    spec: ProviderSpec
    failures: int = 0
    successes: int = 0
    error: str | None = None
    retry_after_s: float = 0.0
    written_at: float = field(default=-1e9)


class BreakerBoard:
    """This process's view of the shared breakers, and the counts it has not written yet."""

    def __init__(
        self,
        store: BreakerStore,
        config: BreakerConfig,
        clock: Callable[[], float] = clock.wall,
        monotonic: Callable[[], float] = clock.monotonic,
    ) -> None:
        self._store = store
        self.config = config
        self._clock = clock
        self._monotonic = monotonic
        self._cache: dict[str, tuple[float, BreakerRecord]] = {}
        self._counts: dict[str, _Counts] = {}
        self._leases: dict[str, str] = {}  # breaker -> the token of the probe lease this process holds
        self._lock = threading.Lock()  # outcomes are reported from worker threads

    def load(self, specs: Sequence[ProviderSpec]) -> None:
        """Refresh the chain's breakers in one batch read, unless every one was read within `cache_s`."""
        if self.stale(specs):
            now = self._monotonic()
            for key, record in self._store.read_many([breaker_key(s.name, s.model) for s in specs]).items():
                self._cache[key] = (now, record)

    def stale(self, specs: Sequence[ProviderSpec]) -> bool:
        """Whether `load` would read: some breaker of the chain was not read within `cache_s`."""
        now = self._monotonic()
        keys = [breaker_key(s.name, s.model) for s in specs]
        return any(now - self._cache.get(k, (-1e9, None))[0] >= self.config.cache_s for k in keys)

    def state(self, spec: ProviderSpec) -> BreakerRecord:
        key = breaker_key(spec.name, spec.model)
        cached = self._cache.get(key)
        return cached[1] if cached else BreakerRecord(key)

    def admit(self, spec: ProviderSpec) -> Admission:
        """Whether this request may call the provider: yes, as the half-open probe, or no."""
        record = self.state(spec)
        if record.state != "open":
            return Admission.ALLOW
        now = self._clock()
        if now < record.open_until or now < record.lease_until:
            return Admission.REJECT
        lease_s = spec.timeout_ms / 1000 + 1
        token = uuid.uuid4().hex
        won = self._store.take_probe_lease(record.key, now, lease_s, token)
        self._remember(replace(record, lease_until=now + lease_s, lease_id=token if won else None))
        if not won:
            return Admission.REJECT
        with self._lock:
            self._leases[record.key] = token
        return Admission.PROBE

    def reports_success(self, spec: ProviderSpec, admission: Admission) -> bool:
        """Whether `on_success` has anything to do (a probe to close, a failure rate to count): on the healthy path it
        has not, and the caller can skip it (and the thread it would run on)."""
        return admission is Admission.PROBE or self._success_counts(spec, breaker_key(spec.name, spec.model))

    def has_counts(self) -> bool:
        """Whether this process holds counts not written yet (`flush` has something to consider)."""
        return bool(self._counts)

    def _success_counts(self, spec: ProviderSpec, key: str) -> bool:
        record = self.state(spec)
        counts = self._counts.get(key)
        in_window = record.failures and record.window_id == self._window(self._clock())
        return record.state != "open" and bool(in_window or (counts and counts.failures))

    def on_success(self, spec: ProviderSpec, admission: Admission) -> None:
        """The provider answered. Only the probe lease's holder closes an open circuit."""
        key = breaker_key(spec.name, spec.model)
        if admission is Admission.PROBE:
            with self._lock:
                token = self._leases.pop(key, None)
            if token is not None and self._store.close_probe(key, token, self._clock()):
                self._remember(BreakerRecord(key, window_id=self._window(self._clock())))
                self._transition(spec, "closed")
            return
        with self._lock:
            if not self._success_counts(spec, key):
                return  # a success counts only towards a failure rate; it never closes a circuit
            counts = self._counts.setdefault(key, _Counts(spec))
            counts.successes += 1
        self._write_if_due(key)

    def on_failure(
        self, spec: ProviderSpec, outcome: Outcome, error: str, retry_after_s: float | None, admission: Admission
    ) -> None:
        if outcome not in HEALTH_FAILURES:
            return
        key = breaker_key(spec.name, spec.model)
        if admission is Admission.PROBE:
            now = self._clock()
            cool_down = max(self.config.cooldown_s, retry_after_s or 0.0)
            with self._lock:
                token = self._leases.pop(key, None)
            if token is not None and self._store.reopen_probe(key, token, now + cool_down, error):
                record = replace(self.state(spec), state="open", open_until=now + cool_down, lease_until=0.0)
                self._remember(replace(record, lease_id=None))
                self._transition(spec, "reopened")
            return
        with self._lock:
            counts = self._counts.setdefault(key, _Counts(spec))
            counts.failures += 1
            counts.error = error
            counts.retry_after_s = max(counts.retry_after_s, retry_after_s or 0.0)
        self._write_if_due(key)

    def flush(self, *, everything: bool = False) -> None:
        """Write the counts whose interval has passed (`everything`: all of them, as an instance ends)."""
        for key in list(self._counts):
            self._write_if_due(key, force=everything)

    def release(self) -> None:
        """What an instance does as it ends: write every count it holds."""
        self.flush(everything=True)

    def reset(self, spec: ProviderSpec) -> None:
        """Close a breaker for every instance (the admin endpoint)."""
        now = self._clock()
        key = breaker_key(spec.name, spec.model)
        self._store.close(key, now)
        self._remember(BreakerRecord(key, window_id=self._window(now)))
        self._transition(spec, "reset")

    def _write_if_due(self, key: str, force: bool = False) -> None:
        """One write with every count seen since the last one, unless that was under `flush_s` ago; then open the
        circuit if the window has crossed the threshold."""
        with self._lock:
            counts = self._counts.get(key)
            if counts is None or not (counts.failures or counts.successes):
                return
            if not force and self._monotonic() - counts.written_at < self.config.flush_s:
                return
            self._counts[key] = _Counts(counts.spec, written_at=self._monotonic())
        now = self._clock()
        try:
            record = self._store.record_counts(
                key, self._window(now), counts.failures, counts.successes, counts.error, now
            )
        except Exception:
            with self._lock:  # not lost: added to what the next write carries
                pending = self._counts[key]
                pending.failures += counts.failures
                pending.successes += counts.successes
                pending.error = pending.error or counts.error
            raise
        if record is None:
            return
        if counts.failures:
            record = self._open_if_due(counts, record, now)
        self._remember(record)

    def _open_if_due(self, counts: _Counts, record: BreakerRecord, now: float) -> BreakerRecord:
        spec, retry_after_s = counts.spec, counts.retry_after_s
        if record.state == "open":
            if retry_after_s and now + retry_after_s > record.open_until:
                self._store.extend(record.key, now + retry_after_s)
                record = replace(record, open_until=now + retry_after_s)
        elif self._should_open(record):
            until = now + max(self.config.cooldown_s, retry_after_s)
            if self._store.open(record.key, until, now):
                record = replace(record, state="open", open_until=until)
                self._transition(spec, "opened")
        return record

    def _should_open(self, record: BreakerRecord) -> bool:
        """`failure_threshold` failures in the window, unless enough calls show them to be a small share.

        Under load a healthy provider still fails now and then: 5 failures among 500 calls must not
        open its circuit. So once the window has `min_requests` calls (successes are counted from its
        first failure), the failure rate must also reach `failure_rate`.
        """
        total = record.failures + record.successes
        if record.failures < self.config.failure_threshold:
            return False
        return total < self.config.min_requests or record.failures / total >= self.config.failure_rate

    def _window(self, now: float) -> int:
        return int(now // self.config.window_s)

    def _remember(self, record: BreakerRecord) -> None:
        self._cache[record.key] = (self._monotonic(), record)

    def _transition(self, spec: ProviderSpec, change: str) -> None:
        metrics.add_metric(name=f"Breaker{change.capitalize()}", unit=MetricUnit.Count, value=1)
        logger.info("circuit breaker " + change, extra={"provider": spec.name, "model": spec.model})
