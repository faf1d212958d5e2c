"""What guards every provider call: the retry policy, the shared breakers and the spend cap.

Built once per process from the settings (the breaker board keeps its cache and its unwritten counts, the spend
guard its leases, across requests). The chain uses them for every attempt; a caller that streams uses the same
steps (docs/resilience.md, "Guarding a call yourself"):

    guards = resilience_for(settings)
    guards.breakers.load(specs)                       # one batch read per request (cached up to 1 s)
    admission = guards.breakers.admit(spec)           # REJECT: skip; PROBE: this call is the half-open probe
    reservation = guards.spend.reserve(spec, request) # SpendRefusedError: the cap; LedgerUnavailableError: no ledger
    ... call the provider, stream ...
    guards.breakers.on_success(spec, admission)       # or on_failure(spec, outcome, error, retry_after_s, admission)
    guards.spend.settle(reservation, billed)          # billed usage; settle(reservation, None, unknown=True) when
                                                      # the call may have been billed but no usage came
    guards.finish()                                   # at the end of the request
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from gateway.config.settings import Settings
from gateway.core.errors import ConfigurationError
from gateway.providers.registry import daily_cost_limits
from gateway.resilience.breaker import BreakerBoard, BreakerConfig
from gateway.resilience.key_budgets import KeyBudgets
from gateway.resilience.retry import RetryPolicy
from gateway.resilience.spend import SpendGuard
from gateway.resilience.usage import UsageMeter
from gateway.stores.breakers import BreakerStore
from gateway.stores.key_budgets import KeyBudgetStore
from gateway.stores.spend_ledger import SpendLedgerStore
from gateway.stores.usage import UsageStore


@dataclass(frozen=True)
class Resilience:
    retry: RetryPolicy
    breakers: BreakerBoard | None = None
    spend: SpendGuard | None = None

    def finish_due(self) -> bool:
        """Whether `finish` may have a write to make: breaker counts held, spend leases held, a key's usage to write."""
        return bool(
            (self.breakers is not None and self.breakers.has_counts())
            or (self.spend is not None and self.spend.holds_leases())
        )

    def finish(self) -> None:
        """What a request leaves to do at its end: the breaker counts whose interval has passed written, the spend
        leases that are due given back (each at most one write, and only when due), and what the request's API key
        used written (one write, when it had a key)."""
        if self.breakers is not None:
            self.breakers.flush()
        if self.spend is not None:
            self.spend.release(everything=False)


def resilience_for(settings: Settings) -> Resilience:
    """The process's resilience for these settings.

    The breaker board and the spend guard live as long as the process (their caches, unwritten counts and leases
    outlive any change of settings: a runtime configuration's new version is applied to them, never a reason to
    drop a lease); the retry policy is the settings'.
    """
    built = _built.get(settings.state_table)
    if built is not None and (built[0] is settings or built[0] == settings):
        return built[1]
    with _lock:
        previous = _built.get(settings.state_table)
        resilience = _build(settings, previous[1] if previous is not None else None)
        _built[settings.state_table] = (settings, resilience)
        return resilience


_lock = threading.Lock()
_built: dict[str | None, tuple[Settings, Resilience]] = {}  # state table -> the settings applied, and their guards


def forget() -> None:
    """Drop the process's breaker boards and spend guards (tests that start a new AWS backend; a SnapStart restore:
    the circuits a snapshot read and any lease it held must not be shared by every instance restored from it); each
    is built again on first use."""
    with _lock:
        _built.clear()


def _build(settings: Settings, previous: Resilience | None) -> Resilience:
    retry = RetryPolicy(
        max_attempts=settings.retry_max_attempts,
        base_delay_s=settings.retry_base_delay_ms / 1000,
        max_delay_s=settings.retry_max_delay_ms / 1000,
        min_attempt_s=settings.min_attempt_ms / 1000,
    )
    caps = (settings.daily_cost_limit, *daily_cost_limits(settings).values())
    if settings.state_table is None:
        if any(cap is not None for cap in caps):
            raise ConfigurationError("AI_DAILY_COST_LIMIT needs PROVIDER_STATE_TABLE to keep its ledger")
        return Resilience(retry)
    config = BreakerConfig.from_settings(settings)
    if previous is not None and previous.breakers is not None and previous.spend is not None:
        previous.breakers.config = config
        previous.spend.configure(settings)
        return Resilience(retry, previous.breakers, previous.spend)
    max_age_s = float(settings.config_max_age_s)  # the environment's (it does not change at runtime)
    spend = SpendGuard(
        SpendLedgerStore(settings.state_table),
        settings,
        budgets=KeyBudgets(KeyBudgetStore(settings.state_table), lambda: max_age_s),
        usage=UsageMeter(UsageStore(settings.state_table)),
    )
    return Resilience(retry, BreakerBoard(BreakerStore(settings.state_table), config), spend)
