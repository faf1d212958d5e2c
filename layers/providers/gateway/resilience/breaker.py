"""The circuit breaker per provider and model, shared by every instance through DynamoDB.

closed -> open after `failure_threshold` failures in a window, and, once the window has at least
`min_requests` calls, a failure rate of at least `failure_rate`; open -> half-open after the cool-down (or a longer
Retry-After), when exactly one instance takes the probe lease; the probe's success closes it for
all, its failure opens it again. Each process reads the state in one batch per request and may reuse
it for up to `cache_s` (at most 1 s), so a change is visible everywhere within a second.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from aws_lambda_powertools.metrics import MetricUnit

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

    @classmethod
    def from_settings(cls, settings: GatewaySettings) -> BreakerConfig:
        return cls(
            failure_threshold=settings.breaker_failure_threshold,
            failure_rate=settings.breaker_failure_rate,
            min_requests=settings.breaker_min_requests,
            window_s=settings.breaker_window_s,
            cooldown_s=float(settings.breaker_cooldown_s),
            cache_s=settings.breaker_cache_ms / 1000,
        )


class BreakerBoard:
    """This process's view of the shared breakers."""

    def __init__(
        self,
        store: BreakerStore,
        config: BreakerConfig,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self.config = config
        self._clock = clock
        self._monotonic = monotonic
        self._cache: dict[str, tuple[float, BreakerRecord]] = {}

    def load(self, specs: Sequence[ProviderSpec]) -> None:
        """Refresh the chain's breakers in one batch read, unless every one was read within `cache_s`."""
        keys = [breaker_key(s.name, s.model) for s in specs]
        now = self._monotonic()
        if keys and any(now - self._cache.get(k, (-1e9, None))[0] > self.config.cache_s for k in keys):
            for key, record in self._store.read_many(keys).items():
                self._cache[key] = (now, record)

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
        if self._store.take_probe_lease(record.key, now, lease_s):
            self._remember(replace(record, lease_until=now + lease_s))
            return Admission.PROBE
        self._remember(replace(record, lease_until=now + lease_s))
        return Admission.REJECT

    def on_success(self, spec: ProviderSpec, admission: Admission) -> None:
        record = self.state(spec)
        now = self._clock()
        if admission is Admission.PROBE or record.state == "open":
            self._store.close(record.key, now)
            self._remember(BreakerRecord(record.key, window_id=self._window(now)))
            self._transition(spec, "closed")
        elif record.failures and record.window_id == self._window(now):
            self._store.record_success(record.key, self._window(now))

    def on_failure(
        self, spec: ProviderSpec, outcome: Outcome, error: str, retry_after_s: float | None, admission: Admission
    ) -> None:
        if outcome not in HEALTH_FAILURES:
            return
        now = self._clock()
        cool_down = max(self.config.cooldown_s, retry_after_s or 0.0)
        key = breaker_key(spec.name, spec.model)
        if admission is Admission.PROBE:
            self._store.reopen(key, now + cool_down, error)
            self._remember(replace(self.state(spec), state="open", open_until=now + cool_down, lease_until=0.0))
            self._transition(spec, "reopened")
            return
        record = self._store.record_failure(key, self._window(now), error, now)
        if record.state == "open":
            if retry_after_s and now + retry_after_s > record.open_until:
                self._store.extend(key, now + retry_after_s)
                record = replace(record, open_until=now + retry_after_s)
        elif self._should_open(record) and self._store.open(key, now + cool_down, now):
            record = replace(record, state="open", open_until=now + cool_down)
            self._transition(spec, "opened")
        self._remember(record)

    def reset(self, spec: ProviderSpec) -> None:
        """Close a breaker for every instance (the admin endpoint)."""
        now = self._clock()
        key = breaker_key(spec.name, spec.model)
        self._store.close(key, now)
        self._remember(BreakerRecord(key, window_id=self._window(now)))
        self._transition(spec, "reset")

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
