"""The route endpoint: decide topic, language and route, answer (or serve from the cache), record.

1. Topic (`topic_hint` wins), language (`language` wins) and complexity are decided locally
   (`gateway.routing.plan`).
2. The chain follows the configuration: simple prompts go to the sLM first when it is healthy.
3. An exact-match cache keyed by everything that changes the answer can answer instead, at no cost
   (`gateway.routing.answer_cache`); a sampled answer (temperature above zero) or `Cache-Control: no-store` makes
   no cache call.
4. Every answer is stored as an interaction; the repetition detector, off this path, turns a repeated prompt into
   a training example (`gateway.learning`).

AWS round trips: one before the provider call (the cache read; the circuits and the sLM's probe verdict, when their
cached state is due, are read at the same time on other threads) and one after it (the cache entry and the
interaction in one `BatchWriteItem`). Settings and keys come from their caches.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel, ConfigDict, Field, field_validator

from gateway.analysis.languages import LANGUAGE_NAMES
from gateway.config.context import RequestContext
from gateway.config.settings import get_settings
from gateway.endpoints.answers import ProviderAnswer, Usage, provider_answer_fields
from gateway.learning import recording
from gateway.observability import metrics
from gateway.providers.base import GenerationRequest, ProviderSpec
from gateway.resilience.breaker import BreakerBoard
from gateway.resilience.chain import run_chain
from gateway.resilience.guards import resilience_for
from gateway.routing import slm_health
from gateway.routing.answer_cache import CacheMode, answer_put, cache_key, cache_use, cached_answer
from gateway.routing.plan import RouteDecision, decide
from gateway.routing.topics import normalize_topic
from gateway.stores.batch import Put, put_all
from gateway.stores.cache import CacheStore

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


def routing_of(decision: RouteDecision) -> RoutingOut:
    """Why the request went where it went, as answered."""
    complexity = decision.complexity
    return RoutingOut(
        topic_source=decision.topic_source,
        language_source=decision.language_source,
        complexity=ComplexityOut(score=complexity.score, level=complexity.level, reasons=list(complexity.reasons)),
        chain=[spec.name for spec in decision.specs],
        reason=decision.reason,
    )


@dataclass(frozen=True)
class RoutePlan:
    """What a route request will do: its decision, what it asks the providers, and the answer cache it may use."""

    request: RouteRequest
    decision: RouteDecision
    generation_request: GenerationRequest
    store: CacheStore | None
    key: str
    cache: CacheMode
    started: float

    async def cached(self, ctx: RequestContext) -> dict[str, Any] | None:
        """The cached answer, when the request may be answered from the cache and one is there; what else is due
        before the chain runs is read at the same time (`_read_ahead`)."""
        store = self.store if self.cache == "use" else None
        hit = await _read_ahead(store, self.key, self.decision.specs, ctx)
        if hit is not None:
            metrics.add_metric(name="CacheHits", unit=MetricUnit.Count, value=1)
        return hit


def plan(request: RouteRequest, ctx: RequestContext, cache_control: str | None = None) -> RoutePlan:
    """Decide where the request goes and what it asks, before any provider is called."""
    started = time.perf_counter()
    cache = cache_use(cache_control, request.temperature)
    settings = ctx.settings
    decision = decide(request, settings, ctx.keys)
    generation_request = GenerationRequest(
        prompt=request.prompt,
        system=f"{SYSTEM_PROMPT} Answer in {LANGUAGE_NAMES[decision.language]}.",
        max_output_tokens=request.max_output_tokens,
        temperature=request.temperature,
    )
    cached_in = settings.cache_table if settings.cache_ttl_s and decision.specs and cache != "off" else None
    store = CacheStore(cached_in) if cached_in else None
    key = cache_key(decision.specs, generation_request, decision.language) if store is not None else ""
    return RoutePlan(request, decision, generation_request, store, key, cache, started)


async def answer(request: RouteRequest, ctx: RequestContext, *, cache_control: str | None = None) -> RouteResponse:
    """Answer a prompt (from the cache when it can, as `Cache-Control` allows), record it, and say what happened."""
    route = plan(request, ctx, cache_control)
    hit = await route.cached(ctx)
    if hit is not None:
        return answered(route, ctx, str(hit["text"]), cached_answer_fields(hit, ctx.request_id), cached=True)
    result = await run_chain(
        route.decision.specs, route.generation_request, _plain_text, ctx.deadline, secrets=ctx.keys.values()
    )
    return answered(route, ctx, result.value, provider_answer_fields(result, ctx.request_id, 0.0), cached=False)


def answered(
    route: RoutePlan, ctx: RequestContext, text: str, fields: dict[str, Any], *, cached: bool
) -> RouteResponse:
    """The answer as the client gets it, once its text is whole: cached (when fresh) and recorded, both in one
    round trip."""
    writes: list[Put] = []
    if not cached and route.store is not None:
        value = {"text": text, "provider": fields["provider"], "model": fields["model"]}
        writes.append(answer_put(route.store, route.key, value, ctx.settings.cache_ttl_s))
    usage: Usage = fields["usage"]
    decision = route.decision
    interaction = recording.interaction_put(
        recording.Answered(
            user_id=route.request.user_id,
            topic=decision.topic,
            language=decision.language,
            prompt=route.request.prompt,
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
    put_all(writes if interaction is None else [*writes, interaction])  # one round trip for both
    fields["latency_ms"] = round((time.perf_counter() - route.started) * 1000, 2)
    return RouteResponse(
        text=text, topic=decision.topic, language=decision.language, cached=cached, routing=routing_of(decision),
        **fields,
    )  # fmt: skip


async def _read_ahead(
    store: CacheStore | None, key: str, specs: Sequence[ProviderSpec], ctx: RequestContext
) -> dict[str, Any] | None:
    """The cached answer (None without a `store` to read). What else is due to be read before the chain runs (the
    circuits, whose cached state is over `cache_s` old; the sLM's probe verdict, over 30 s old) is read at the same
    time, on other threads: several reads, one round trip, and the chain finds them fresh."""
    reads: list[Callable[[], Any]] = [functools.partial(cached_answer, store, key)] if store is not None else []
    if slm_health.refresh_due(ctx.settings):
        reads.append(functools.partial(slm_health.refresh, ctx.settings))
    board = resilience_for(ctx.settings).breakers
    if reads and board is not None and specs and board.stale(specs):  # alone, the chain reads them itself
        reads.append(functools.partial(_read_circuits, board, specs))
    if not reads:
        return None
    if len(reads) == 1:  # one read: on this thread (a thread hop costs more than it saves)
        answers = [reads[0]()]
    else:
        answers = await asyncio.gather(*(asyncio.to_thread(read) for read in reads))
    hit: dict[str, Any] | None = answers[0] if store is not None else None
    return hit


def _read_circuits(board: BreakerBoard, specs: Sequence[ProviderSpec]) -> None:
    with contextlib.suppress(Exception):  # the chain finds them stale, reads them again, and reports a failure
        board.load(specs)


def cached_answer_fields(hit: dict[str, Any], request_id: str) -> dict[str, Any]:
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


def _plain_text(text: str) -> str:
    if not text.strip():
        raise ValueError("the answer is blank")
    return text
