"""What guards every provider call: the retry policy, the shared breakers and the spend cap.

Built once per process from the settings (the breaker board keeps its 1 s cache across requests).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from gateway.config.settings import Settings
from gateway.core.errors import ConfigurationError
from gateway.providers.registry import daily_cost_limits
from gateway.resilience.breaker import BreakerBoard, BreakerConfig
from gateway.resilience.retry import RetryPolicy
from gateway.resilience.spend import SpendGuard
from gateway.stores.breakers import BreakerStore
from gateway.stores.spend_ledger import SpendLedgerStore


@dataclass(frozen=True)
class Resilience:
    retry: RetryPolicy
    breakers: BreakerBoard | None = None
    spend: SpendGuard | None = None


def resilience_for(settings: Settings) -> Resilience:
    """The process's resilience for these settings (cached: the breaker board is per process)."""
    return _build(settings)


@lru_cache(maxsize=4)
def _build(settings: Settings) -> Resilience:
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
    return Resilience(
        retry,
        BreakerBoard(BreakerStore(settings.state_table), BreakerConfig.from_settings(settings)),
        SpendGuard(SpendLedgerStore(settings.state_table), settings),
    )
