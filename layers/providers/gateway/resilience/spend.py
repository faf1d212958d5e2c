"""The daily spend cap: reserve the worst-case cost before a call, settle the real cost after.

Only while a cap is set: without one, the ledger is not written, so an uncapped request pays
for no write. The worst case bounds the input by its UTF-8 length (no tokenizer makes more tokens than bytes) and
the output by `max_output_tokens`, so the real cost never exceeds the reservation and concurrent
requests cannot overshoot the cap (see `gateway.stores.spend_ledger`).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from gateway.core.catalogue import catalogue, cost_usd
from gateway.core.settings import GatewaySettings
from gateway.providers.base import Generation, GenerationRequest, ProviderSpec
from gateway.providers.registry import daily_cost_limits
from gateway.stores.spend_ledger import RETENTION_S, SpendLedgerStore

ALL = "all"


@dataclass(frozen=True)
class Reservation:
    spec: ProviderSpec
    day: str
    amount: float
    scopes: list[str] = field(default_factory=list)


class SpendRefusedError(Exception):
    """The call would pass a daily cap (or cannot be priced while a cap is set)."""


class SpendGuard:
    def __init__(self, store: SpendLedgerStore, settings: GatewaySettings) -> None:
        self._store = store
        self._global = settings.daily_cost_limit
        self._per_provider = daily_cost_limits(settings)

    def limits(self, spec: ProviderSpec) -> dict[str, float]:
        limits = {ALL: self._global, spec.name: self._per_provider.get(spec.name)}
        return {scope: limit for scope, limit in limits.items() if limit is not None}

    def reserve(self, spec: ProviderSpec, request: GenerationRequest, now: float | None = None) -> Reservation:
        """Hold the worst-case cost under every cap that applies; raise SpendRefusedError when it does not fit."""
        now = time.time() if now is None else now
        day = time.strftime("%Y-%m-%d", time.gmtime(now))
        info = catalogue().models.get(spec.model)
        if info is not None and info.input_per_million == 0 and info.output_per_million == 0:
            return Reservation(spec, day, 0.0)  # a free model spends nothing and needs no ledger write
        limits = self.limits(spec)
        if not limits:
            return Reservation(spec, day, 0.0)  # no cap: no ledger writes on the request's path
        if info is None:
            raise SpendRefusedError(f"{spec.model} has no price in the catalogue, so the daily cap cannot hold")
        worst = worst_case_cost(spec.model, request)
        if not self._store.reserve(day, limits, worst, int(now) + RETENTION_S):
            caps = ", ".join(f"{scope} {limit:g} USD" for scope, limit in limits.items())
            raise SpendRefusedError(f"the daily spend cap ({caps}) leaves no room for this call")
        return Reservation(spec, day, worst, list(limits))  # settled where reserved, nowhere else

    def settle(self, reservation: Reservation, generation: Generation | None, unknown: bool = False) -> None:
        """Record one attempt's real cost and release the rest of its reservation.

        `generation` is what the provider billed: its answer, or the usage of an answer it refused to pass on
        (blocked, empty); None when no answer came (an error status), which costs nothing. `unknown`: the call
        may have been billed but its usage never came (a timeout: the provider may well finish it), so the
        reservation's worst case stays spent, and the cap cannot be passed by calls that time out.
        """
        if not reservation.scopes:
            return
        actual = reservation.amount if unknown else 0.0
        if generation is not None:
            actual = cost_usd(reservation.spec.model, generation.input_tokens, generation.output_tokens) or 0.0
        expires_at = int(time.time()) + RETENTION_S
        self._store.settle(reservation.day, reservation.scopes, reservation.amount, actual, expires_at)

    def caps(self) -> dict[str, float]:
        """Every daily cap that is set, by scope (`all`, or a provider)."""
        caps = {ALL: self._global, **self._per_provider}
        return {scope: cap for scope, cap in caps.items() if cap is not None}

    def today(self, scopes: list[str]) -> dict[str, dict[str, float]]:
        """Today's spend in the scopes that have a cap (the ledger keeps no other)."""
        caps = self.caps()
        capped = [scope for scope in scopes if scope in caps]
        day = time.strftime("%Y-%m-%d", time.gmtime())
        return self._store.totals(day, capped)


def worst_case_cost(model: str, request: GenerationRequest) -> float:
    """An upper bound of one call's cost: input tokens <= UTF-8 bytes, output tokens <= max_output_tokens."""
    text = request.prompt + (request.system or "") + (json.dumps(request.json_schema) if request.json_schema else "")
    bound = cost_usd(model, len(text.encode()), request.max_output_tokens)
    return bound or 0.0
