"""The status endpoint's logic: what each provider is, and probes run by the schedule."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

from pydantic import BaseModel

from gateway.breaker import Admission, BreakerBoard
from gateway.chain import scrub
from gateway.errors import ConfigurationError, InvalidRequestError
from gateway.providers import registry
from gateway.providers.base import Outcome, ProviderError, short
from gateway.resilience import resilience_for
from gateway.settings import Settings
from gateway.spend import ALL
from gateway.stores.provider_state import ProbeRecord, ProviderStateStore, now_s
from gateway.stores.secrets import ProviderKeys


class Circuit(BaseModel):
    state: str  # closed, open or half_open (open, cool-down over, waiting for its probe)
    failures: int
    successes: int
    open_until: float | None = None
    last_error: str | None = None


class ProviderStatus(BaseModel):
    name: str
    configured: bool
    model: str
    base_url_host: str
    last_probe: ProbeRecord | None
    circuit: Circuit | None
    spent_today_usd: float | None


class Spend(BaseModel):
    spent_today_usd: float
    committed_usd: float
    daily_limit_usd: float | None


class StatusResponse(BaseModel):
    providers: list[ProviderStatus]
    spend: Spend | None


def provider_status(settings: Settings, keys: ProviderKeys) -> StatusResponse:
    """Each provider's configuration (never its key), circuit, spend and last probe from the shared state."""
    specs = registry.all_specs(settings, keys)
    guards = resilience_for(settings)
    probes = _store(settings).last_probes([s.name for s in specs]) if settings.state_table else {}
    circuits: dict[str, Circuit] = {}
    if guards.breakers is not None:
        guards.breakers.load(specs)
        circuits = {spec.name: _circuit(guards.breakers, spec) for spec in specs}
    totals = guards.spend.today([ALL, *(s.name for s in specs)]) if guards.spend is not None else {}
    return StatusResponse(
        providers=[
            ProviderStatus(
                name=spec.name,
                configured=spec.configured,
                model=spec.model,
                base_url_host=spec.base_url_host,
                last_probe=probes.get(spec.name),
                circuit=circuits.get(spec.name),
                spent_today_usd=totals[spec.name]["spent_usd"] if spec.name in totals else None,
            )
            for spec in specs
        ],
        spend=Spend(
            spent_today_usd=totals[ALL]["spent_usd"],
            committed_usd=totals[ALL]["committed_usd"],
            daily_limit_usd=settings.daily_cost_limit,
        )
        if ALL in totals
        else None,
    )


def _circuit(board: BreakerBoard, spec: registry.ProviderSpec) -> Circuit:
    record = board.state(spec)
    state = record.state
    if state == "open" and record.open_until <= time.time():
        state = "half_open"
    return Circuit(
        state=state,
        failures=record.failures,
        successes=record.successes,
        open_until=record.open_until if record.state == "open" else None,
        last_error=record.last_error,
    )


def reset_circuit(settings: Settings, keys: ProviderKeys, provider: str, model: str | None) -> Circuit:
    """Close one provider's circuit for every instance (the admin endpoint)."""
    specs = {spec.name: spec for spec in registry.all_specs(settings, keys)}
    if provider not in specs:
        raise InvalidRequestError(f"unknown provider {provider!r}; one of {', '.join(specs)}")
    board = resilience_for(settings).breakers
    if board is None:
        raise ConfigurationError("PROVIDER_STATE_TABLE is not set: there is no shared circuit to reset")
    spec = replace(specs[provider], model=model) if model else specs[provider]
    board.reset(spec)
    return _circuit(board, spec)


async def probe_all(settings: Settings, keys: ProviderKeys, timeout_s: float = 10.0) -> list[ProbeRecord]:
    """Probe every configured provider at once and record each outcome in the shared state."""
    specs = [spec for spec in registry.all_specs(settings, keys) if spec.configured]
    records = await asyncio.gather(*(_probe(spec, timeout_s, keys) for spec in specs))
    if settings.state_table:
        store = _store(settings)
        for record in records:
            store.record_probe(record)
    board = resilience_for(settings).breakers
    if board is not None:  # the probes feed the same circuits as the requests
        board.load(specs)
        for spec, probe in zip(specs, records, strict=True):
            if probe.outcome == Outcome.OK:
                board.on_success(spec, Admission.PROBE if board.state(spec).state == "open" else Admission.ALLOW)
            else:
                board.on_failure(spec, Outcome(probe.outcome), probe.error or "", None, Admission.ALLOW)
    return list(records)


async def _probe(spec: registry.ProviderSpec, timeout_s: float, keys: ProviderKeys) -> ProbeRecord:
    started = time.perf_counter()
    outcome, error = Outcome.OK, None
    try:
        await asyncio.wait_for(registry.get_provider(spec).probe(), timeout=min(timeout_s, spec.timeout_ms / 1000))
    except TimeoutError:
        outcome, error = Outcome.TIMEOUT, "no answer in time"
    except ProviderError as exc:
        outcome, error = exc.outcome, scrub(short(exc.message), keys.values())
    latency_ms = round((time.perf_counter() - started) * 1000, 2)
    return ProbeRecord(
        provider=spec.name, model=spec.model, outcome=outcome.value, latency_ms=latency_ms,
        probed_at=now_s(), error=error,
    )  # fmt: skip


def _store(settings: Settings) -> ProviderStateStore:
    assert settings.state_table is not None
    return ProviderStateStore(settings.state_table)
