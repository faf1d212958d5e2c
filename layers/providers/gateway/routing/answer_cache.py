"""The route's exact-match answer cache: a key from everything that changes the answer, and reads and writes
that never fail a request (the cache only saves money)."""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from gateway.observability import logger
from gateway.providers.base import GenerationRequest, ProviderSpec
from gateway.stores.cache import CacheStore

CacheMode = Literal["use", "refresh", "off"]


def cache_mode(cache_control: str | None) -> CacheMode:
    """`no-cache`: do not answer from the cache (the fresh answer is stored); `no-store`: neither."""
    directives = {part.strip().split("=", 1)[0].lower() for part in (cache_control or "").split(",")}
    if "no-store" in directives:
        return "off"
    return "refresh" if "no-cache" in directives else "use"


def cache_key(specs: list[ProviderSpec], request: GenerationRequest, language: str) -> str:
    """`route#` and the SHA-256 of everything that changes the answer."""
    material = {
        "chain": [[spec.name, spec.model] for spec in specs],
        "prompt": request.prompt,
        "system": request.system,
        "max_output_tokens": request.max_output_tokens,
        "temperature": request.temperature,
        "language": language,
    }
    digest = hashlib.sha256(json.dumps(material, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    return f"route#{digest}"


def cached_answer(store: CacheStore, key: str) -> dict[str, Any] | None:
    """The stored answer, or None when absent or the cache cannot be read."""
    try:
        return store.get(key)
    except Exception as exc:  # the cache only saves money: without it, the providers answer
        logger.warning("response cache unreadable", extra={"error": f"{type(exc).__name__}: {exc}"})
        return None


def store_answer(store: CacheStore, key: str, value: dict[str, Any], ttl_s: int) -> None:
    """Keep an answer for `ttl_s` seconds; a failure is logged, not raised."""
    try:
        store.put(key, value, ttl_s)
    except Exception as exc:
        logger.warning("response cache not written", extra={"error": f"{type(exc).__name__}: {exc}"})
