"""The route's exact-match answer cache: a key from everything that changes the answer, and reads and writes
that never fail a request (the cache only saves money).

A request whose answer is sampled (`temperature` above zero) asks for a new answer each time, so it is neither looked
up nor stored: it costs no cache call at all. Nor does `Cache-Control: no-store`. A request without a temperature
takes the provider's default and is cached, as it always was (the gateway's answer to a repeated question is the
one it gave).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from gateway.observability import logger
from gateway.providers.base import GenerationRequest, ProviderSpec
from gateway.stores.batch import Put
from gateway.stores.cache import CacheStore

CacheMode = Literal["use", "refresh", "off"]


def cache_mode(cache_control: str | None) -> CacheMode:
    """`no-cache`: do not answer from the cache (the fresh answer is stored); `no-store`: neither."""
    directives = {part.strip().split("=", 1)[0].lower() for part in (cache_control or "").split(",")}
    if "no-store" in directives:
        return "off"
    return "refresh" if "no-cache" in directives else "use"


def cache_use(cache_control: str | None, temperature: float | None) -> CacheMode:
    """How this request uses the cache: as `Cache-Control` says, and "off" for a sampled answer (temperature > 0)."""
    if temperature is not None and temperature > 0:
        return "off"
    return cache_mode(cache_control)


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
        _not_written(f"{type(exc).__name__}: {exc}")


def answer_put(store: CacheStore, key: str, value: dict[str, Any], ttl_s: int) -> Put:
    """The cache entry as one write of a batch (`gateway.stores.batch.put_all`); a failure is logged, not raised."""
    return Put(store.table_name, store.item(key, value, ttl_s), _not_written)


def _not_written(reason: str) -> None:
    logger.warning("response cache not written", extra={"error": reason})
