"""The status function's endpoints: what each provider is, the admin's circuit reset, and the scheduled probe."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from gateway.analysis.redaction import scrub
from gateway.config.keys import load_provider_keys
from gateway.config.settings import Settings, get_settings
from gateway.core import clock, runtime
from gateway.core.errors import ConfigurationError, InvalidRequestError, short
from gateway.observability import logger, metrics
from gateway.providers import registry
from gateway.providers.base import GenerationRequest, Outcome, Provider, ProviderError, ProviderKeys, ProviderSpec
from gateway.resilience.breaker import Admission, BreakerBoard
from gateway.resilience.guards import Resilience, resilience_for
from gateway.resilience.spend import ALL, LedgerUnavailableError, SpendGuard, SpendRefusedError
from gateway.resilience.spend_report import publish_spend
from gateway.stores.provider_state import ProbeRecord, ProviderStateStore, now_s
from gateway.stores.ratings import RatingCountStore


class Circuit(BaseModel):
    state: str  # closed, open or half_open (open, cool-down over, waiting for its probe)
    failures: int
    successes: int
    open_until: float | None = None
    last_error: str | None = None


class Ratings(BaseModel):
    """The ratings its answers were given today (UTC)."""

    positive: int
    negative: int
    positive_share: float = Field(description="positive / (positive + negative)")


class ProviderStatus(BaseModel):
    name: str
    configured: bool
    model: str
    base_url_host: str
    last_probe: ProbeRecord | None
    circuit: Circuit | None
    spent_today_usd: float | None
    ratings_today: Ratings | None = Field(description="null: none today")


class Spend(BaseModel):
    spent_today_usd: float
    committed_usd: float
    daily_limit_usd: float | None


class ConfigInForce(BaseModel):
    version: int = Field(description="the runtime configuration's version this instance applies (0: the environment)")
    updated_at: float | None = Field(description="when that version was stored (epoch seconds)")


class KeyState(BaseModel):
    """A provider's key: whether it is set, and when it was last changed through the admin route (never its value)."""

    provider: str
    set: bool
    changed_at: float | None = Field(description="epoch seconds; null: not changed through the admin route")


class StatusResponse(BaseModel):
    providers: list[ProviderStatus]
    spend: Spend | None
    config: ConfigInForce
    keys: list[KeyState]


class CircuitReset(BaseModel):
    model_config = ConfigDict(extra="forbid")

    provider: str = Field(min_length=1, max_length=32)
    model: str | None = Field(None, min_length=1, max_length=200, description="Defaults to the configured model")


def current_status() -> StatusResponse:
    """`GET /v1/status`: this process's settings (and the runtime configuration's version it applies) and keys."""
    settings = get_settings()
    return provider_status(settings, load_provider_keys(settings))


def reset_circuit_by_admin(body: CircuitReset, who: str) -> Circuit:
    """`POST /v1/admin/circuits/reset`: close a provider's shared circuit, logged with the admin's IAM principal."""
    settings = get_settings()
    circuit = reset_circuit(settings, load_provider_keys(settings), body.provider, body.model)
    logger.info("circuit reset by an admin", extra={"admin": who, "provider": body.provider, "model": body.model})
    return circuit


def on_schedule(event: dict[str, Any], context: LambdaContext | None = None) -> dict[str, Any]:
    """An EventBridge schedule: probe every configured provider, record the outcomes, report today's spend."""
    if event.get("detail-type") != "Scheduled Event":
        kind = event.get("detail-type") or ", ".join(sorted(str(key) for key in event)[:5]) or "an empty event"
        raise ValueError(f"the status function answers API Gateway events and EventBridge schedules, not {kind!r}")
    settings = get_settings()
    records = runtime.run(probe_all(settings, load_provider_keys(settings)))
    metrics.add_metric(name="ProvidersProbed", unit=MetricUnit.Count, value=len(records))
    metrics.add_metric(name="ProbeFailures", unit=MetricUnit.Count, value=sum(r.outcome != "ok" for r in records))
    publish_spend(settings)  # today's spend against the caps, for the spend alarm (no read per request)
    logger.info("providers probed", extra={"probes": [r.model_dump() for r in records]})
    return {"probed": [r.model_dump(exclude_none=True) for r in records]}


def provider_status(settings: Settings, keys: ProviderKeys) -> StatusResponse:
    """Each provider's configuration (never its key), circuit, spend and last probe from the shared state."""
    specs = registry.all_specs(settings, keys)
    guards = resilience_for(settings)
    probes = _store(settings).last_probes([s.name for s in specs]) if settings.state_table else {}
    changes = _store(settings).key_changes([s.name for s in specs]) if settings.state_table else {}
    ratings = _ratings_today(settings, [s.name for s in specs])
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
                ratings_today=ratings.get(spec.name),
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
        config=_config_in_force(),
        keys=[
            KeyState(
                provider=spec.name,
                set=bool(keys.get(spec.name)),
                changed_at=changes[spec.name].changed_at if spec.name in changes else None,
            )
            for spec in specs
        ],
    )


def _ratings_today(settings: Settings, providers: list[str]) -> dict[str, Ratings]:
    if not settings.state_table:
        return {}
    day = time.strftime("%Y-%m-%d", time.gmtime(clock.wall()))
    counts = RatingCountStore(settings.state_table).day(day, providers)
    return {
        name: Ratings(positive=positive, negative=negative, positive_share=round(positive / (positive + negative), 4))
        for name, (positive, negative) in counts.items()
        if positive + negative > 0
    }


def _config_in_force() -> ConfigInForce:
    version = get_settings.version()
    return ConfigInForce(version=version.version, updated_at=version.updated_at or None)


def _circuit(board: BreakerBoard, spec: ProviderSpec) -> Circuit:
    record = board.state(spec)
    state = record.state
    if state == "open" and record.open_until <= clock.wall():
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
    """Probe every configured provider at once and record each outcome in the shared state.

    A probe feeds the provider's circuit like any call. An open circuit is closed only through its half-open lease,
    by a probe that exercises generation (one token), never by the cheap health check alone.
    """
    specs = [spec for spec in registry.all_specs(settings, keys) if spec.configured]
    guards = resilience_for(settings)
    board = guards.breakers
    if board is not None:
        board.load(specs)
    records = await asyncio.gather(*(_probe(spec, timeout_s, keys, guards) for spec in specs))
    if settings.state_table:
        store = _store(settings)
        for record in records:
            store.record_probe(record)
    if board is not None:
        board.flush(everything=True)  # the probe's counts now: the schedule runs only every few minutes
    if guards.spend is not None:
        guards.spend.release(everything=False)
    return list(records)


async def _probe(spec: ProviderSpec, timeout_s: float, keys: ProviderKeys, guards: Resilience) -> ProbeRecord:
    """The provider's health check; or, when its circuit is open and this probe takes the lease, a generation."""
    board = guards.breakers
    admission = Admission.ALLOW
    if board is not None and board.state(spec).state == "open":
        admission = board.admit(spec)
    provider = registry.get_provider(spec)
    started = time.perf_counter()
    outcome, error = Outcome.OK, None
    try:
        budget = min(timeout_s, spec.timeout_ms / 1000)
        if admission is Admission.PROBE:
            await _generation_probe(spec, provider, guards.spend, budget)
        else:
            await asyncio.wait_for(provider.probe(), timeout=budget)
    except TimeoutError:
        outcome, error = Outcome.TIMEOUT, "no answer in time"
    except ProviderError as exc:
        outcome, error = exc.outcome, scrub(short(exc.message), keys.values())
    latency_ms = round((time.perf_counter() - started) * 1000, 2)
    if board is not None and admission is not Admission.REJECT:
        if outcome is Outcome.OK:
            board.on_success(spec, admission)
        else:
            board.on_failure(spec, outcome, error or "", None, admission)
    return ProbeRecord(
        provider=spec.name, model=spec.model, outcome=outcome.value, latency_ms=latency_ms,
        probed_at=now_s(), error=error,
    )  # fmt: skip


async def _generation_probe(spec: ProviderSpec, provider: Provider, spend: SpendGuard | None, budget: float) -> None:
    """A one-token generation, under the spend cap like any paid call (reserved, then settled)."""
    ping = GenerationRequest("ping", max_output_tokens=1)
    try:
        reservation = spend.reserve(spec, ping) if spend is not None else None
    except (SpendRefusedError, LedgerUnavailableError) as exc:
        raise ProviderError(Outcome.BUDGET_EXCEEDED, f"no probe: {exc}") from exc
    billed, unknown = None, True
    try:
        billed, unknown = await asyncio.wait_for(provider.generate(ping), budget), False
    except ProviderError as exc:
        billed, unknown = exc.billed, exc.bill_unknown
        raise
    finally:
        if spend is not None and reservation is not None:
            spend.settle(reservation, billed, unknown)


def _store(settings: Settings) -> ProviderStateStore:
    assert settings.state_table is not None
    return ProviderStateStore(settings.state_table)
