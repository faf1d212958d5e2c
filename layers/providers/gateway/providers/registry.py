"""Which providers exist, how each is configured, and the cached SDK client for each.

A provider's SDK is imported here only when that provider is first built, so a function that never
calls Gemini never imports `google.genai`.
"""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from gateway.coldstart import loading
from gateway.providers.base import Provider
from gateway.settings import Settings
from gateway.stores.secrets import ProviderKeys

ProviderName = Literal["gemini", "huggingface", "slm"]
GEMINI_DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com"


@dataclass(frozen=True)
class ProviderSpec:
    """One model at one provider, as configured. `key` is never printed."""

    name: ProviderName
    model: str
    base_url: str
    timeout_ms: int
    key: str = field(default="", repr=False)
    configured: bool = False

    @property
    def base_url_host(self) -> str:
        return urlsplit(self.base_url).hostname or ""


def gemini(settings: Settings, keys: ProviderKeys) -> ProviderSpec:
    return ProviderSpec(
        "gemini",
        settings.gemini_model,
        settings.gemini_base_url or GEMINI_DEFAULT_BASE_URL,
        settings.provider_timeout_ms,
        keys.gemini,
        configured=bool(keys.gemini),
    )


def huggingface(settings: Settings, keys: ProviderKeys, model: str | None = None) -> ProviderSpec:
    return ProviderSpec(
        "huggingface",
        model or settings.vllm_model,
        settings.hf_base_url,
        settings.provider_timeout_ms,
        keys.huggingface,
        configured=bool(keys.huggingface),
    )


def slm(settings: Settings, keys: ProviderKeys) -> ProviderSpec:
    return ProviderSpec(
        "slm",
        settings.slm_model,
        settings.slm_endpoint_url or "",
        settings.slm_timeout_ms,
        keys.slm_bearer,
        configured=settings.slm_enabled,
    )


def all_specs(settings: Settings, keys: ProviderKeys) -> list[ProviderSpec]:
    """Every provider the gateway knows, configured or not (for status and probes)."""
    return [slm(settings, keys), gemini(settings, keys), huggingface(settings, keys)]


# One client per provider spec and event loop: an SDK's async HTTP client belongs to the loop it was
# first used on, and the local API runs each function on its own thread and loop.
_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[ProviderSpec, Provider]] = (
    weakref.WeakKeyDictionary()
)


def get_provider(spec: ProviderSpec) -> Provider:
    """The cached client for a configured provider spec (built on first use on this event loop)."""
    per_loop = _clients.setdefault(asyncio.get_running_loop(), {})
    provider = per_loop.get(spec)
    if provider is None:
        with loading(f"provider {spec.name}"):  # the SDK's modules and the client live as long as the process
            provider = per_loop[spec] = _build(spec)
    return provider


def _build(spec: ProviderSpec) -> Provider:
    if spec.name == "gemini":
        from gateway.providers.gemini import GeminiProvider

        return GeminiProvider(
            api_key=spec.key,
            model=spec.model,
            base_url=None if spec.base_url == GEMINI_DEFAULT_BASE_URL else spec.base_url,
            timeout_ms=spec.timeout_ms,
        )
    if spec.name == "huggingface":
        from gateway.providers.huggingface import HuggingFaceProvider

        return HuggingFaceProvider(
            api_key=spec.key, model=spec.model, base_url=spec.base_url, timeout_ms=spec.timeout_ms
        )
    from gateway.providers.slm import SlmProvider

    return SlmProvider(endpoint_url=spec.base_url, model=spec.model, bearer=spec.key, timeout_ms=spec.timeout_ms)
