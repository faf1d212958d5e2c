"""The client's answer when its API key's own budget refused every provider: `429 key_budget_exhausted`, naming the
limit, when it resets (the next UTC midnight, when the ledger's day changes) and `Retry-After` until then."""

from __future__ import annotations

import math
import time
from typing import Any

from gateway.core import clock
from gateway.core.errors import KeyBudgetExhaustedError
from gateway.resilience.spend import KeyBudgetRefusedError


def next_utc_midnight(now: float) -> float:
    return (math.floor(now / 86400) + 1) * 86400.0


def key_budget_exhausted(refusal: KeyBudgetRefusedError, details: dict[str, Any]) -> KeyBudgetExhaustedError:
    now = clock.wall()
    resets = next_utc_midnight(now)
    resets_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(resets))
    return KeyBudgetExhaustedError(
        f"{refusal}; it resets at {resets_at}",
        details={**details, "limit": refusal.limit, "value": refusal.value, "resets_at": resets_at},
        headers={"Retry-After": str(max(1, math.ceil(resets - now)))},
    )
