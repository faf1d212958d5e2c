"""The status endpoint's logic: what each provider is, and probes run by the schedule."""

from __future__ import annotations

import asyncio
import time

from pydantic import BaseModel

from gateway.chain import scrub
from gateway.providers import registry
from gateway.providers.base import Outcome, ProviderError, short
from gateway.settings import Settings
from gateway.stores.provider_state import ProbeRecord, ProviderStateStore, now_s
from gateway.stores.secrets import ProviderKeys


class ProviderStatus(BaseModel):
    name: str
    configured: bool
    model: str
    base_url_host: str
    last_probe: ProbeRecord | None


class StatusResponse(BaseModel):
    providers: list[ProviderStatus]


def provider_status(settings: Settings, keys: ProviderKeys) -> StatusResponse:
    """Each provider's configuration (never its key) and its last probe from the shared state."""
    specs = registry.all_specs(settings, keys)
    probes = _store(settings).last_probes([s.name for s in specs]) if settings.state_table else {}
    return StatusResponse(
        providers=[
            ProviderStatus(
                name=spec.name,
                configured=spec.configured,
                model=spec.model,
                base_url_host=spec.base_url_host,
                last_probe=probes.get(spec.name),
            )
            for spec in specs
        ]
    )


async def probe_all(settings: Settings, keys: ProviderKeys, timeout_s: float = 10.0) -> list[ProbeRecord]:
    """Probe every configured provider at once and record each outcome in the shared state."""
    specs = [spec for spec in registry.all_specs(settings, keys) if spec.configured]
    records = await asyncio.gather(*(_probe(spec, timeout_s, keys) for spec in specs))
    if settings.state_table:
        store = _store(settings)
        for record in records:
            store.record_probe(record)
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
