"""The route's decision: topic, language and complexity from the prompt, and the chain of providers it tries.

The chain follows the configuration: simple prompts go to the sLM first when it is healthy; the cloud order
comes from AI_PRIMARY_PROVIDER, AI_USE_VLLM_BACKUP and VLLM_TRAINED.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from gateway.analysis.languages import DEFAULT_LANGUAGE, detect_language
from gateway.config.settings import Settings
from gateway.providers import registry
from gateway.providers.base import ProviderKeys, ProviderSpec
from gateway.routing.complexity import Complexity, score_complexity
from gateway.routing.slm_health import slm_healthy
from gateway.routing.topics import GENERAL
from gateway.routing.topics import detect_topic as _detect_topic


class RoutePrompt(Protocol):
    """What routing reads of a request (the route endpoint's, a queued job's)."""

    @property
    def prompt(self) -> str: ...
    @property
    def topic_hint(self) -> str | None: ...
    @property
    def language(self) -> str | None: ...
    @property
    def max_output_tokens(self) -> int: ...


@dataclass(frozen=True)
class RouteDecision:
    topic: str
    topic_source: Literal["hint", "detected"]
    language: str
    language_source: Literal["request", "detected", "default"]
    complexity: Complexity
    specs: list[ProviderSpec]
    reason: str


def detect_topic(prompt: str, topics: str = "") -> str:
    """The detected topic of a prompt among `topics` (ROUTE_TOPICS syntax; the defaults when empty)."""
    return _detect_topic(prompt, topics).topic


def plan_chain(
    settings: Settings, keys: ProviderKeys, level: Literal["simple", "complex"], slm_healthy: Callable[[], bool]
) -> tuple[list[ProviderSpec], str]:
    """The configured providers in the order this request tries them, and why."""
    gemini, huggingface, slm = (registry.spec(name, settings, keys) for name in ("gemini", "huggingface", "slm"))
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


def decide(request: RoutePrompt, settings: Settings, keys: ProviderKeys) -> RouteDecision:
    """Topic (the hint wins), language (the request's wins), complexity and the chain for one request."""
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
