"""What guards every provider call: the retry policy, the shared breakers and the spend cap.

Built once per process from the settings (the breaker board keeps its 1 s cache across requests).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache

from gateway.breaker import BreakerBoard, BreakerConfig
from gateway.errors import ConfigurationError
from gateway.providers.base import Outcome
from gateway.settings import Settings
from gateway.spend import SpendGuard
from gateway.stores.breakers import BreakerStore
from gateway.stores.spend_ledger import SpendLedgerStore

# Transient failures worth another try at the same provider.
RETRYABLE = frozenset({Outcome.TIMEOUT, Outcome.CONNECTION_ERROR, Outcome.RATE_LIMITED, Outcome.SERVER_ERROR})


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 2
    base_delay_s: float = 0.1
    max_delay_s: float = 2.0
    min_attempt_s: float = 0.25

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter before retry number `attempt` (1-based)."""
        return random.uniform(0, min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1)))


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
    caps = (settings.daily_cost_limit, settings.gemini_daily_cost_limit, settings.huggingface_daily_cost_limit)
    if settings.state_table is None:
        if any(cap is not None for cap in caps):
            raise ConfigurationError("AI_DAILY_COST_LIMIT needs PROVIDER_STATE_TABLE to keep its ledger")
        return Resilience(retry)
    return Resilience(
        retry,
        BreakerBoard(BreakerStore(settings.state_table), BreakerConfig.from_settings(settings)),
        SpendGuard(SpendLedgerStore(settings.state_table), settings),
    )
