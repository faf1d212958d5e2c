"""The route endpoint's logic: decide topic, language and route, answer (or serve from the cache), record.

1. Topic (`topic_hint` wins), language (`language` wins) and complexity are decided locally.
2. The chain follows the configuration: simple prompts go to the sLM first when it is healthy; the
   cloud order comes from AI_PRIMARY_PROVIDER, AI_USE_VLLM_BACKUP and VLLM_TRAINED.
3. An exact-match cache keyed by everything that changes the answer can answer instead, at no cost.
4. Every answer is stored as an interaction (one write); the repetition detector, off this path, turns
   a repeated prompt into a training example.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel, ConfigDict, Field, field_validator

from gateway import recording
from gateway.chain import run_chain
from gateway.complexity import Complexity, score_complexity
from gateway.contracts import ProviderAnswer, Usage, provider_answer_fields
from gateway.languages import DEFAULT_LANGUAGE, LANGUAGE_NAMES, detect_language
from gateway.observability import logger, metrics
from gateway.providers import registry
from gateway.providers.base import GenerationRequest
from gateway.request_context import RequestContext
from gateway.settings import Settings, get_settings
from gateway.stores.cache import CacheStore
from gateway.stores.provider_state import ProviderStateStore
from gateway.stores.secrets import ProviderKeys
from gateway.topics import GENERAL, normalize_topic
from gateway.topics import detect_topic as _detect_topic

CacheMode = Literal["use", "refresh", "off"]
PROBE_FRESH_S = 15 * 60  # a failed probe older than this no longer keeps the sLM out of the chain
SYSTEM_PROMPT = "You are a helpful, precise assistant."


class RouteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: str = Field(min_length=1, max_length=128)
    prompt: str = Field(min_length=1, max_length=32000)
    topic_hint: str | None = Field(None, min_length=1, max_length=64, description="letters, digits, ' ', '_', '-'")
    language: str | None = Field(None, description="ISO 639-1 code, e.g. en, es, ja; detected when absent")
    max_output_tokens: int = Field(1024, ge=1, le=8192, strict=True)  # strict: a JSON number, not true/"5"
    temperature: float | None = Field(None, ge=0, le=2, allow_inf_nan=False, strict=True)

    @field_validator("prompt", "user_id")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value

    @field_validator("prompt")
    @classmethod
    def _under_prompt_cap(cls, value: str) -> str:
        cap = get_settings().max_prompt_chars_route  # MAX_PROMPT_CHARS_ROUTE
        if len(value) > cap:
            raise ValueError(f"must be at most {cap} characters")
        return value

    @field_validator("topic_hint")
    @classmethod
    def _topic_name(cls, value: str | None) -> str | None:
        return normalize_topic(value) if value is not None else None

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str | None) -> str | None:
        if value is not None and value.lower() not in LANGUAGE_NAMES:
            raise ValueError(f"unsupported language; use one of {', '.join(sorted(LANGUAGE_NAMES))}")
        return value.lower() if value else value


class ComplexityOut(BaseModel):
    score: float = Field(description="0 (trivial) to 1 (hard)")
    level: Literal["simple", "complex"]
    reasons: list[str]


class RoutingOut(BaseModel):
    """Why the request went where it went."""

    topic_source: Literal["hint", "detected"]
    language_source: Literal["request", "detected", "default"]
    complexity: ComplexityOut
    chain: list[str] = Field(description="the providers tried in this order")
    reason: str


class RouteResponse(ProviderAnswer):
    text: str
    topic: str
    language: str = Field(description="the language the answer was asked for")
    cached: bool = Field(description="served from the response cache, at no cost")
    routing: RoutingOut


@dataclass(frozen=True)
class RouteDecision:
    topic: str
    topic_source: Literal["hint", "detected"]
    language: str
    language_source: Literal["request", "detected", "default"]
    complexity: Complexity
    specs: list[registry.ProviderSpec]
    reason: str

    def routing(self) -> RoutingOut:
        return RoutingOut(
            topic_source=self.topic_source,
            language_source=self.language_source,
            complexity=ComplexityOut(
                score=self.complexity.score, level=self.complexity.level, reasons=list(self.complexity.reasons)
            ),
            chain=[spec.name for spec in self.specs],
            reason=self.reason,
        )


def detect_topic(prompt: str, topics: str = "") -> str:
    """The detected topic of a prompt among `topics` (ROUTE_TOPICS syntax; the defaults when empty)."""
    return _detect_topic(prompt, topics).topic


def cache_mode(cache_control: str | None) -> CacheMode:
    """`no-cache`: do not answer from the cache (the fresh answer is stored); `no-store`: neither."""
    directives = {part.strip().split("=", 1)[0].lower() for part in (cache_control or "").split(",")}
    if "no-store" in directives:
        return "off"
    return "refresh" if "no-cache" in directives else "use"


def plan_chain(
    settings: Settings, keys: ProviderKeys, level: Literal["simple", "complex"], slm_healthy: Callable[[], bool]
) -> tuple[list[registry.ProviderSpec], str]:
    """The configured providers in the order this request tries them, and why."""
    gemini, huggingface, slm = (
        registry.gemini(settings, keys),
        registry.huggingface(settings, keys),
        registry.slm(settings, keys),
    )
    if settings.vllm_trained:
        cloud, reasons = [huggingface, gemini], ["cloud: huggingface then gemini (VLLM_TRAINED=true)"]
    elif settings.ai_primary_provider == "vllm":
        cloud, reasons = [huggingface, gemini], ["cloud: huggingface then gemini (AI_PRIMARY_PROVIDER=vllm)"]
    elif settings.ai_use_vllm_backup:
        cloud, reasons = [gemini, huggingface], ["cloud: gemini then huggingface (AI_USE_VLLM_BACKUP=true)"]
    else:
        cloud, reasons = [gemini], ["cloud: gemini only (AI_USE_VLLM_BACKUP=false)"]
    chain = cloud
    if not slm.configured:
        reasons.insert(0, "no sLM (SLM_MODE=local)" if settings.slm_mode == "local" else "no sLM (no SLM_ENDPOINT_URL)")
    elif level == "complex":
        reasons.insert(0, "complex prompt: straight past the sLM")
    elif not slm_healthy():
        reasons.insert(0, "simple prompt, but the sLM's last probe failed: skipped")
    else:
        chain = [slm, *cloud]
        reasons.insert(0, "simple prompt: the sLM first")
    unconfigured = [spec.name for spec in chain if not spec.configured]
    if unconfigured:
        reasons.append(f"not configured: {', '.join(unconfigured)}")
    return [spec for spec in chain if spec.configured], "; ".join(reasons)


# The probe runs every few minutes, so its verdict is read at most once per PROBE_CACHE_S per instance,
# not on every request (the request's one batch read is the circuits').
PROBE_CACHE_S = 30.0
_slm_verdict: dict[str, tuple[float, bool]] = {}


def slm_healthy(settings: Settings) -> bool:
    """False only when the scheduled probe recently found the sLM failing (unknown counts as healthy)."""
    if not settings.state_table:
        return True
    cached = _slm_verdict.get(settings.state_table)
    if cached is not None and time.monotonic() - cached[0] < PROBE_CACHE_S:
        return cached[1]
    try:
        probe = ProviderStateStore(settings.state_table).last_probes(["slm"]).get("slm")
    except Exception as exc:
        logger.warning("sLM health unknown", extra={"error": f"{type(exc).__name__}: {exc}"})
        return True
    healthy = probe is None or probe.outcome == "ok" or time.time() - probe.probed_at > PROBE_FRESH_S
    _slm_verdict[settings.state_table] = (time.monotonic(), healthy)
    return healthy


def decide(request: RouteRequest, settings: Settings, keys: ProviderKeys) -> RouteDecision:
    """Topic, language, complexity and the chain for one request."""
    topic_source: Literal["hint", "detected"] = "hint" if request.topic_hint else "detected"
    topic = request.topic_hint or detect_topic(request.prompt, settings.route_topics)
    language_source: Literal["request", "detected", "default"] = "request"
    language = request.language
    if language is None:
        language = detect_language(request.prompt)
        language_source = "detected" if language else "default"
    language = language or DEFAULT_LANGUAGE
    complexity = score_complexity(
        request.prompt,
        max_output_tokens=request.max_output_tokens,
        language=language,
        threshold=settings.complexity_threshold,
    )
    specs, reason = plan_chain(settings, keys, complexity.level, lambda: slm_healthy(settings))
    return RouteDecision(topic or GENERAL, topic_source, language, language_source, complexity, specs, reason)


def cache_key(specs: list[registry.ProviderSpec], request: GenerationRequest, language: str) -> str:
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


async def answer(request: RouteRequest, ctx: RequestContext, *, cache: CacheMode = "use") -> RouteResponse:
    """Answer a prompt (from the cache when it can), record it, and say what happened."""
    started = time.perf_counter()
    settings = ctx.settings
    decision = decide(request, settings, ctx.keys)
    generation_request = GenerationRequest(
        prompt=request.prompt,
        system=f"{SYSTEM_PROMPT} Answer in {LANGUAGE_NAMES[decision.language]}.",
        max_output_tokens=request.max_output_tokens,
        temperature=request.temperature,
    )
    store = (
        CacheStore(settings.cache_table) if settings.cache_table and settings.cache_ttl_s and decision.specs else None
    )
    key = cache_key(decision.specs, generation_request, decision.language)
    hit = _cache_get(store, key) if store is not None and cache == "use" else None
    if hit is not None:
        fields, text, cached = _cached_answer_fields(hit, ctx.request_id), str(hit["text"]), True
        metrics.add_metric(name="CacheHits", unit=MetricUnit.Count, value=1)
    else:
        result = await run_chain(
            decision.specs, generation_request, _plain_text, ctx.deadline, secrets=ctx.keys.values()
        )
        fields = provider_answer_fields(result, ctx.request_id, 0.0)
        text, cached = result.value, False
        if store is not None and cache != "off":
            _cache_put(store, key, {"text": text, "provider": fields["provider"], "model": fields["model"]}, settings)
    usage: Usage = fields["usage"]
    recording.record(
        recording.Answered(
            user_id=request.user_id,
            topic=decision.topic,
            language=decision.language,
            prompt=request.prompt,
            answer=text,
            provider=fields["provider"],
            model=fields["model"],
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cost_usd=usage.cost_usd,
            cached=cached,
        ),
        ctx,
    )
    fields["latency_ms"] = round((time.perf_counter() - started) * 1000, 2)
    return RouteResponse(
        text=text,
        topic=decision.topic,
        language=decision.language,
        cached=cached,
        routing=decision.routing(),
        **fields,
    )


def _cached_answer_fields(hit: dict[str, Any], request_id: str) -> dict[str, Any]:
    """The ProviderAnswer fields of a cache hit: who answered first; no attempt, no tokens, no cost."""
    return {
        "request_id": request_id,
        "provider": hit["provider"],
        "model": hit["model"],
        "fallback_used": False,
        "attempts": [],
        "usage": Usage(input_tokens=0, output_tokens=0, cost_usd=0.0),
        "latency_ms": 0.0,
    }


def _cache_get(store: CacheStore, key: str) -> dict[str, Any] | None:
    try:
        return store.get(key)
    except Exception as exc:  # the cache only saves money: without it, the providers answer
        logger.warning("response cache unreadable", extra={"error": f"{type(exc).__name__}: {exc}"})
        return None


def _cache_put(store: CacheStore, key: str, value: dict[str, Any], settings: Settings) -> None:
    try:
        store.put(key, value, settings.cache_ttl_s)
    except Exception as exc:
        logger.warning("response cache not written", extra={"error": f"{type(exc).__name__}: {exc}"})


def _plain_text(text: str) -> str:
    if not text.strip():
        raise ValueError("the answer is blank")
    return text
