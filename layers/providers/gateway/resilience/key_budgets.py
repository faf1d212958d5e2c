"""Each API key's own budget as this instance knows it: read from the table at most once per
`CONFIG_MAX_AGE_SECONDS` per key (`gateway.stores.key_budgets`), so a request costs no read beyond a cached one and
a new budget is in force everywhere within that time. Decided by `gateway.core.clock`, as the runtime configuration.

A budget that cannot be read is a budget that cannot be checked: the last one known is kept (none, at first: then the
call is held back, `LedgerUnavailableError`, as for a ledger that cannot be written), and read again soon.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from gateway.core import clock
from gateway.observability import logger
from gateway.stores.key_budgets import KeyBudget, KeyBudgetStore

RETRY_AFTER_FAILURE_S = 5.0
MAX_KEYS = 10_000  # budgets remembered per instance (a key seen again after being forgotten is read again)


class BudgetUnreadableError(Exception):
    """The key's budget could not be read, and none was known: it cannot be checked."""


class KeyBudgets:
    def __init__(self, store: KeyBudgetStore, max_age_s: Callable[[], float]) -> None:
        self._store = store
        self._max_age_s = max_age_s
        self._known: dict[str, tuple[float, KeyBudget | None]] = {}  # key id -> (read again after, budget)
        self._lock = threading.Lock()

    def get(self, api_key_id: str) -> KeyBudget | None:
        """The key's budget (None: it has none); BudgetUnreadableError when it cannot be known."""
        now = clock.monotonic()
        known = self._known.get(api_key_id)
        if known is not None and now < known[0]:
            return known[1]
        try:
            budget = self._store.get(api_key_id)
        except Exception as exc:
            logger.error("key budget unreadable", extra={"api_key_id": api_key_id, "error": type(exc).__name__})
            if known is None:
                raise BudgetUnreadableError(f"the budget of API key {api_key_id} could not be read") from exc
            self._remember(api_key_id, now + RETRY_AFTER_FAILURE_S, known[1])
            return known[1]
        self._remember(api_key_id, now + self._max_age_s(), budget)
        return budget

    def learn(self, api_key_id: str, budget: KeyBudget | None) -> None:
        """A budget this instance has just written: in force here at once."""
        self._remember(api_key_id, clock.monotonic() + self._max_age_s(), budget)

    def _remember(self, api_key_id: str, until: float, budget: KeyBudget | None) -> None:
        with self._lock:
            if len(self._known) >= MAX_KEYS:
                self._known.clear()
            self._known[api_key_id] = (until, budget)
