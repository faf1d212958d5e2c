"""The one table of providers, and what is built from it: each provider's spec, its cached SDK client, its keys.

Adding a provider is one module that declares a `ProviderInfo` (see `gateway.providers.base`), one line in
`PROVIDERS`, its fields in `gateway.config.settings.Settings` and its models in `shared/models.json`. A provider's
SDK is imported only when that provider is first built, so a function that never calls Gemini never imports
`google.genai`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import weakref
from collections.abc import Mapping
from typing import Any

from gateway.core.coldstart import loading
from gateway.core.errors import ConfigurationError
from gateway.core.settings import GatewaySettings
from gateway.providers import gemini, huggingface, slm
from gateway.providers.base import BatchEmbedder, Provider, ProviderInfo, ProviderKeys, ProviderSpec

# In the order status lists them.
PROVIDERS: dict[str, ProviderInfo[Any]] = {p.name: p for p in (slm.PROVIDER, gemini.PROVIDER, huggingface.PROVIDER)}


def spec(name: str, settings: GatewaySettings, keys: ProviderKeys, *, model: str | None = None) -> ProviderSpec:
    """One provider as configured (`model` in place of its configured one)."""
    info = PROVIDERS[name]
    configured = info.spec(settings, keys.get(name), settings.provider_timeout_ms)
    return dataclasses.replace(configured, model=model) if model else configured


def all_specs(settings: GatewaySettings, keys: ProviderKeys) -> list[ProviderSpec]:
    """Every provider the gateway knows, configured or not (for status and probes)."""
    return [spec(name, settings, keys) for name in PROVIDERS]


def daily_cost_limits(settings: GatewaySettings) -> dict[str, float | None]:
    """Each provider's own daily cap (AI_DAILY_COST_LIMIT_<NAME>), None where it has none."""
    return {name: info.daily_cost_limit(settings) for name, info in PROVIDERS.items()}


def embedder(name: str, settings: GatewaySettings, keys: ProviderKeys) -> BatchEmbedder | None:
    """The provider's embedder, when it has one and a key."""
    info = PROVIDERS[name]
    key = keys.get(name)
    if info.embedder is None or not key:
        return None
    return info.embedder(settings, key, settings.provider_timeout_ms)


def keys_from(secret: Mapping[str, Any] | None, secret_name: str, environ: Mapping[str, str] | None) -> ProviderKeys:
    """Each provider's key from the secret's JSON object (None: no secret); `environ` (local mode only) overrides it.

    A secret that lacks a required key name, or holds a key that is not a string, is a ConfigurationError naming
    them (never their values).
    """
    keys: dict[str, str] = {}
    if secret is not None:
        required = [info.secret_key for info in PROVIDERS.values() if info.key_required]
        missing = [name for name in required if name not in secret]
        if missing:
            raise ConfigurationError(f"provider secret {secret_name!r} lacks the keys: {', '.join(missing)}")
        wrong = [info.secret_key for info in PROVIDERS.values() if not isinstance(secret.get(info.secret_key, ""), str)]
        if wrong:
            raise ConfigurationError(f"provider secret {secret_name!r} has non-string values for: {', '.join(wrong)}")
        keys = {name: str(secret.get(info.secret_key, "")) for name, info in PROVIDERS.items()}
    for name, info in PROVIDERS.items():
        override = next((environ[var] for var in info.env_keys if environ and environ.get(var)), None)
        if override:
            keys[name] = override
    return ProviderKeys(**keys)


# One client per provider spec and event loop: an SDK's async HTTP client belongs to the loop it was
# first used on, and the local API runs each function on its own thread and loop.
_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[ProviderSpec, Provider]] = (
    weakref.WeakKeyDictionary()
)


def get_provider(provider: ProviderSpec) -> Provider:
    """The cached client for a configured provider spec (built on first use on this event loop)."""
    per_loop = _clients.setdefault(asyncio.get_running_loop(), {})
    client = per_loop.get(provider)
    if client is None:
        with loading(f"provider {provider.name}"):  # the SDK's modules and the client live as long as the process
            client = per_loop[provider] = PROVIDERS[provider.name].build(provider)
    return client


def load_sdks() -> None:
    """Import every provider's SDK now (before a SnapStart snapshot): the first request then finds them loaded."""
    for info in PROVIDERS.values():
        if info.load_sdk is not None:
            with loading(f"provider {info.name}"):
                info.load_sdk()


def forget_clients() -> None:
    """Drop every cached provider client (after a SnapStart restore: their pooled connections belong to the
    snapshot's process); each is built again on first use."""
    _clients.clear()
