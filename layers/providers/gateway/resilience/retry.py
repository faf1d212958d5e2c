"""The gateway's one retry policy: which failures are retried, and the backoff between attempts."""

from __future__ import annotations

import random
from dataclasses import dataclass

from gateway.providers.base import Outcome

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
