"""The daily spend cap through budget leases: a call reserves its worst case from a slice of the cap the instance
leased, and settles its real cost into that slice; the ledger is written only to lease a slice or give one back.

Only while a cap is set: without one, nothing is written. The worst case bounds the input by its UTF-8 length plus a
template allowance (no tokenizer makes more tokens than bytes; a chat template adds a few) and the output by
`max_output_tokens` plus the model's thinking budget (both told to the provider), times what the instances learned of
the model's overruns (shared through the ledger item). So a slice can only be spent on calls that fit it, and the cap
item, which no lease can take past the cap (`gateway.stores.spend_ledger`), cannot be overshot by any number of
instances.

The price of leases (docs/resilience.md): budget an instance holds is not available to others until it is spent or given
back (when the lease is `SPEND_LEASE_SECONDS` old, at the end of a request, or as the instance ends), so calls may be
refused while leases in flight still hold some of the cap. A slice is at most `SPEND_LEASE_CALLS` worst cases and at
most 1/`SPEND_LEASE_SPLIT` of the room left at the last write, and never less than the call at hand; near the cap,
slices shrink to one call, which bounds what stays unused at the cut-off.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR

from aws_lambda_powertools.metrics import MetricUnit

from gateway.core import caller, clock
from gateway.core.catalogue import catalogue, cost_usd
from gateway.core.settings import GatewaySettings
from gateway.observability import logger, metrics
from gateway.providers.base import Generation, GenerationRequest, ProviderSpec
from gateway.providers.registry import daily_cost_limits
from gateway.resilience.key_budgets import BudgetUnreadableError, KeyBudgets
from gateway.resilience.usage import UsageMeter
from gateway.stores.key_budgets import KeyBudget
from gateway.stores.spend_ledger import RETENTION_S, SpendLedgerStore, units_usd, usd_units

ALL = "all"
TEMPLATE_TOKENS = 64  # what a chat template or a system framing may add to the prompt's own tokens


@dataclass(frozen=True)
class Reservation:
    spec: ProviderSpec
    day: str
    amount: float  # USD
    scopes: list[str] = field(default_factory=list)
    units: int = 0
    api_key_id: str | None = None  # the API key whose usage the call counts in


class SpendRefusedError(Exception):
    """The call would pass a daily cap (or cannot be priced while a cap is set)."""


class KeyBudgetRefusedError(SpendRefusedError):
    """The call would pass its API key's own daily budget: `limit` (daily_usd or daily_requests) at `value`."""

    def __init__(self, message: str, limit: str, value: float) -> None:
        super().__init__(message)
        self.limit = limit
        self.value = value


def key_scope(api_key_id: str) -> str:
    """The ledger scope of a key's daily_usd (units of 1e-10 USD)."""
    return f"key#{api_key_id}"


def key_requests_scope(api_key_id: str) -> str:
    """The ledger scope of a key's daily_requests (units of one request)."""
    return f"key-requests#{api_key_id}"


class LedgerUnavailableError(Exception):
    """The ledger could not be written (conflicts, throttling or errors outlasted the retries): the cap cannot be
    checked, so the call is held back, and it is not the cap that refused it."""


@dataclass
class _Lease:
    """One instance's slice of one cap (units): free to reserve, reserved by calls in flight, spent but not yet
    reported, and billed beyond the slice but not yet charged."""

    available: int = 0
    in_flight: int = 0
    spent: int = 0
    debt: int = 0
    taken_at: float = -1e9
    room_seen: int | None = None  # the cap's room at the last write (slices are sized from it)


class SpendGuard:
    def __init__(
        self,
        store: SpendLedgerStore,
        settings: GatewaySettings,
        monotonic: Callable[[], float] = clock.monotonic,
        budgets: KeyBudgets | None = None,
        usage: UsageMeter | None = None,
    ) -> None:
        self._store = store
        self.budgets = budgets
        self.usage = usage
        self.configure(settings)
        self._monotonic = monotonic
        self._leases: dict[tuple[str, str], _Lease] = {}
        self._overruns: dict[str, float] = {}  # model -> how many times its worst case it was seen to bill
        self._lock = threading.RLock()  # settles run on worker threads

    def configure(self, settings: GatewaySettings) -> None:
        """The caps and lease sizes of these settings, from the next reservation on (leases held are kept)."""
        self._global = settings.daily_cost_limit
        self._per_provider = daily_cost_limits(settings)
        self._lease_s = settings.spend_lease_s
        self._lease_calls = settings.spend_lease_calls
        self._split = settings.spend_lease_split

    def limits(self, spec: ProviderSpec) -> dict[str, float]:
        limits = {ALL: self._global, spec.name: self._per_provider.get(spec.name)}
        return {scope: limit for scope, limit in limits.items() if limit is not None}

    def reserve(self, spec: ProviderSpec, request: GenerationRequest, now: float | None = None) -> Reservation:
        """Hold the call's worst case under every cap that applies, its API key's own budget included, from this
        instance's leases (leasing a new slice when one runs short); the request's first call also takes one of the
        key's daily requests. KeyBudgetRefusedError when the key's budget has no room, SpendRefusedError when a cap
        has none; LedgerUnavailableError when the ledger cannot be written (or the key's budget cannot be read)."""
        now = clock.wall() if now is None else now
        day = time.strftime("%Y-%m-%d", time.gmtime(now))
        who = caller.current()
        key = who.api_key_id if who is not None else None
        budget = self._budget(key)
        first = who is not None and key is not None and not who.counted  # the request's first call: count it
        info = catalogue().models.get(spec.model)
        free = info is not None and info.input_per_million == 0 and info.output_per_million == 0
        limits = {} if free else self.limits(spec)  # a free model spends nothing and needs no ledger write
        if key is not None and budget is not None and budget.daily_usd is not None and not free:
            limits[key_scope(key)] = budget.daily_usd
        requests = budget.daily_requests if first and budget is not None else None
        if limits and info is None:
            raise SpendRefusedError(f"{spec.model} has no price in the catalogue, so the daily cap cannot hold")
        need = 0
        if limits:
            worst = worst_case_cost(spec.model, request) * self._overruns.get(spec.model, 1.0)
            need = usd_units(worst, ROUND_CEILING)
        taken: list[str] = []
        with self._lock:
            try:
                for scope, limit in limits.items():
                    self._take(day, scope, usd_units(limit, ROUND_FLOOR), need, now)
                    taken.append(scope)
                if requests is not None and key is not None:  # the last: nothing to give back after it
                    self._count_request(day, key, requests, now)
            except Exception:
                for scope in taken:  # all caps or none: what one cap lent goes back to its lease
                    lease = self._leases[(day, scope)]
                    lease.in_flight -= need
                    lease.available += need
                raise
        if first and who is not None and key is not None:
            who.counted = True
            if self.usage is not None:
                self.usage.count_request(day, key)
        # Settled where reserved, nowhere else.
        return Reservation(spec, day, units_usd(need), list(limits), need, api_key_id=key)

    def _budget(self, key: str | None) -> KeyBudget | None:
        if key is None or self.budgets is None:
            return None
        try:
            return self.budgets.get(key)
        except BudgetUnreadableError as exc:  # a budget that cannot be checked holds the call back
            raise LedgerUnavailableError(str(exc)) from exc

    def _count_request(self, day: str, key: str, limit: int, now: float) -> None:
        """Take one of the key's daily requests from this instance's lease of them (spent at once)."""
        scope = key_requests_scope(key)
        try:
            self._take(day, scope, limit, 1, now)
        except KeyBudgetRefusedError:
            raise
        except SpendRefusedError:
            message = f"the API key's daily budget of {limit} requests is spent"
            raise KeyBudgetRefusedError(message, "daily_requests", limit) from None
        lease = self._leases[(day, scope)]
        lease.in_flight -= 1
        lease.spent += 1

    def settle(self, reservation: Reservation, generation: Generation | None, unknown: bool = False) -> None:
        """Replace one attempt's reservation by what it really cost, in the leases it came from.

        `generation` is what the provider billed: its answer, or the usage of an answer it refused to pass on
        (blocked, empty); None when no answer came (an error status), which costs nothing. `unknown`: the call may
        have been billed but its usage never came (a timeout, an answer that could not be read), so the worst case
        stays spent. A bill beyond the reservation is charged (from the lease, else to the ledger at once),
        reported, and raises the model's worst case from then on: in this instance at once, in the others from their
        next lease (the ledger item carries it).
        """
        actual = reservation.units if unknown else 0
        if generation is not None:
            if generation.usage_reported:
                cost = cost_usd(reservation.spec.model, generation.input_tokens, generation.output_tokens) or 0.0
                actual = usd_units(cost)
            else:
                actual = reservation.units
        if reservation.api_key_id is not None and self.usage is not None:
            tokens = (generation.input_tokens, generation.output_tokens) if generation is not None else (0, 0)
            spec = reservation.spec
            self.usage.count_call(reservation.day, reservation.api_key_id, spec.name, spec.model, tokens, actual)
        if not reservation.scopes:
            return
        if actual > reservation.units:
            self._overrun(reservation, actual)
        with self._lock:
            for scope in reservation.scopes:
                lease = self._leases[(reservation.day, scope)]
                lease.in_flight -= reservation.units
                lease.spent += actual
                lease.available += reservation.units - actual
                if lease.available < 0:  # billed beyond the slice itself
                    lease.debt += -lease.available
                    lease.available = 0
            self._charge_debts(reservation.day, reservation.scopes)

    def holds_leases(self) -> bool:
        """Whether this process holds a lease, or has a key's usage to write (`release` may have a write to make)."""
        return bool(self._leases) or (self.usage is not None and self.usage.pending())

    def release(self, *, everything: bool = True) -> None:
        """Give back what the leases hold unspent and report what they spent: the leases older than
        `SPEND_LEASE_SECONDS` or of another day (`everything=False`, at the end of each request), or all of them
        (as the instance ends). A lease a call is still using keeps that call's reservation."""
        today = time.strftime("%Y-%m-%d", time.gmtime(clock.wall()))
        with self._lock:
            for (day, scope), lease in list(self._leases.items()):
                due = everything or day != today or self._monotonic() - lease.taken_at >= self._lease_s
                if not due or not (lease.available or lease.spent or lease.debt):
                    continue
                self._store.lease(day, scope, 0, 0, lease.available - lease.debt, lease.spent, _expiry())
                lease.available = lease.spent = lease.debt = 0
                if lease.in_flight == 0:
                    del self._leases[(day, scope)]
        if self.usage is not None:
            self.usage.flush()

    def caps(self) -> dict[str, float]:
        """Every daily cap that is set, by scope (`all`, or a provider)."""
        caps = {ALL: self._global, **self._per_provider}
        return {scope: cap for scope, cap in caps.items() if cap is not None}

    def today(self, scopes: list[str]) -> dict[str, dict[str, float]]:
        """Today's spend in the scopes that have a cap (the ledger keeps no other); `spent_usd` counts what leases
        gave back so far, `committed_usd` that plus what they still hold."""
        caps = self.caps()
        capped = [scope for scope in scopes if scope in caps]
        day = time.strftime("%Y-%m-%d", time.gmtime(clock.wall()))
        return self._store.totals(day, capped)

    def _take(self, day: str, scope: str, limit: int, need: int, now: float) -> None:
        """Reserve `need` units of one cap from this instance's lease, leasing a new slice when it runs short."""
        lease = self._leases.setdefault((day, scope), _Lease())
        fresh = self._monotonic() - lease.taken_at < self._lease_s
        if lease.available >= need and fresh:
            lease.available -= need
            lease.in_flight += need
            return
        room = limit if lease.room_seen is None else lease.room_seen
        target = max(need, min(need * self._lease_calls, room // self._split))
        for size in dict.fromkeys((target, need)):  # a slice; else just this call
            try:
                item = self._store.lease(day, scope, limit, size + lease.debt, lease.available, lease.spent, _expiry())
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
                logger.error("spend ledger unavailable", extra={"scope": scope, "error": error})
                raise LedgerUnavailableError(f"the spend ledger could not be written ({type(exc).__name__})") from exc
            if item is not None:
                for model, factor in item.overruns.items():  # what other instances learned of overruns
                    self._overruns[model] = max(self._overruns.get(model, 1.0), factor)
                lease.available, lease.spent, lease.debt = size - need, 0, 0
                lease.in_flight += need
                lease.taken_at = self._monotonic()
                lease.room_seen = max(0, limit - item.committed)
                metrics.add_metric(name="SpendLeases", unit=MetricUnit.Count, value=1)
                return
        lease.room_seen = 0  # no room for a slice: the next one is sized for one call
        if scope.startswith(key_scope("")):
            usd = units_usd(limit)
            raise KeyBudgetRefusedError(f"the API key's daily budget of {usd:g} USD has no room for this call",
                                        "daily_usd", usd)  # fmt: skip
        cap = f"{scope} {units_usd(limit):g} USD"
        raise SpendRefusedError(f"the daily spend cap ({cap}) leaves no room for this call")

    def _charge_debts(self, day: str, scopes: list[str]) -> None:
        """Charge to the ledger what was billed beyond a lease; kept (and charged by the next write) if it fails."""
        for scope in scopes:
            lease = self._leases[(day, scope)]
            if lease.debt:
                try:
                    self._store.charge(day, scope, lease.debt, _expiry())
                except Exception as exc:
                    logger.error("could not charge an overrun", extra={"scope": scope, "error": type(exc).__name__})
                    continue
                lease.debt = 0

    def _overrun(self, reservation: Reservation, actual: int) -> None:
        model = reservation.spec.model
        factor = actual / max(1, reservation.units) * self._overruns.get(model, 1.0)
        self._overruns[model] = max(self._overruns.get(model, 1.0), factor)
        for scope in reservation.scopes:  # every instance prices the model so from its next lease
            try:
                self._store.learn_overrun(reservation.day, scope, model, self._overruns[model], _expiry())
            except Exception as exc:
                logger.error("could not share an overrun", extra={"scope": scope, "error": type(exc).__name__})
        excess = units_usd(actual - reservation.units)
        metrics.add_metric(name="SpendOverrunUsd", unit=MetricUnit.NoUnit, value=excess)
        logger.warning(
            "a provider billed more than the call's worst case",
            extra={"provider": reservation.spec.name, "model": model, "reserved_usd": reservation.amount,
                   "billed_usd": units_usd(actual), "worst_case_factor": round(self._overruns[model], 3)},
        )  # fmt: skip


def _expiry() -> int:
    return int(clock.wall()) + RETENTION_S


def worst_case_cost(model: str, request: GenerationRequest) -> float:
    """An upper bound of one call's cost: input tokens <= UTF-8 bytes plus a template's allowance, output tokens <=
    `max_output_tokens` plus the thinking budget the provider is told (`shared/models.json`)."""
    text = request.text_sent()
    info = catalogue().models.get(model)
    thinking = (info.thinking_budget or 0) if info is not None else 0
    bound = cost_usd(model, len(text.encode()) + TEMPLATE_TOKENS, request.max_output_tokens + thinking)
    return bound or 0.0
