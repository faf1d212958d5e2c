"""The route endpoint's logic: pick the topic and the chain, then answer the prompt."""

from __future__ import annotations

import re
import time

from pydantic import BaseModel, ConfigDict, Field, field_validator

from gateway.chain import run_chain
from gateway.contracts import ProviderAnswer, provider_answer_fields
from gateway.providers import registry
from gateway.providers.base import GenerationRequest
from gateway.request_context import RequestContext
from gateway.settings import Settings
from gateway.stores.secrets import ProviderKeys

TOPIC_KEYWORDS: dict[str, tuple[str, ...]] = {
    "coding": ("code", "python", "javascript", "function", "bug", "error", "compile", "api", "sql", "class"),
    "math": ("math", "equation", "integral", "derivative", "sum", "prove", "calculate", "algebra", "number"),
    "science": ("physics", "chemistry", "biology", "atom", "energy", "cell", "planet", "experiment"),
    "writing": ("write", "essay", "poem", "story", "rewrite", "summarize", "translate", "letter"),
    "business": ("market", "sales", "revenue", "customer", "price", "strategy", "budget", "invoice"),
}
LANGUAGE_NAMES = {
    "en": "English", "es": "Spanish", "fr": "French", "de": "German", "it": "Italian", "pt": "Portuguese",
    "ru": "Russian", "zh": "Chinese", "ja": "Japanese", "ko": "Korean", "ar": "Arabic", "hi": "Hindi",
}  # fmt: skip
_WORD = re.compile(r"[a-z]+")


class RouteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: str = Field(min_length=1, max_length=128)
    prompt: str = Field(min_length=1, max_length=32000)
    topic_hint: str | None = Field(None, min_length=1, max_length=64)
    language: str | None = Field(None, description="ISO 639-1 code, e.g. en, es, ja")
    max_output_tokens: int = Field(1024, ge=1, le=8192)
    temperature: float | None = Field(None, ge=0, le=2, allow_inf_nan=False)

    @field_validator("prompt", "user_id")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str | None) -> str | None:
        if value is not None and value.lower() not in LANGUAGE_NAMES:
            raise ValueError(f"unsupported language; use one of {', '.join(sorted(LANGUAGE_NAMES))}")
        return value.lower() if value else value


class RouteResponse(ProviderAnswer):
    text: str
    topic: str


def detect_topic(prompt: str) -> str:
    """The topic whose keywords the prompt mentions most; `general` when none."""
    words = _WORD.findall(prompt.lower())
    scores = {topic: sum(word in keywords for word in words) for topic, keywords in TOPIC_KEYWORDS.items()}
    best = max(scores, key=lambda topic: scores[topic])
    return best if scores[best] > 0 else "general"


def route_chain(settings: Settings, keys: ProviderKeys) -> list[registry.ProviderSpec]:
    """sLM (when SLM_MODE=http and an endpoint is set), then Gemini, then Hugging Face; configured only."""
    specs = [registry.slm(settings, keys), registry.gemini(settings, keys), registry.huggingface(settings, keys)]
    return [spec for spec in specs if spec.configured]


async def answer(request: RouteRequest, ctx: RequestContext) -> RouteResponse:
    """Answer a prompt through the chain and say what happened."""
    started = time.perf_counter()
    settings, keys = ctx.settings, ctx.keys
    topic = request.topic_hint or detect_topic(request.prompt)
    system = "You are a helpful, precise assistant."
    if request.language:
        system += f" Answer in {LANGUAGE_NAMES[request.language]}."
    generation_request = GenerationRequest(
        prompt=request.prompt,
        system=system,
        max_output_tokens=request.max_output_tokens,
        temperature=request.temperature,
    )
    result = await run_chain(
        route_chain(settings, keys), generation_request, _plain_text, ctx.deadline, secrets=keys.values()
    )
    latency_ms = round((time.perf_counter() - started) * 1000, 2)
    return RouteResponse(text=result.value, topic=topic, **provider_answer_fields(result, ctx.request_id, latency_ms))


def _plain_text(text: str) -> str:
    if not text.strip():
        raise ValueError("the answer is blank")
    return text
