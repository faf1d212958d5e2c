"""Response pieces every provider-backed endpoint shares: who answered, the attempts and the usage."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field

from gateway.core.catalogue import cost_usd
from gateway.providers.base import Generation, ProviderSpec
from gateway.resilience.attempts import Attempt, ChainResult
from gateway.resilience.streaming import ChainStream


class AttemptOut(BaseModel):
    provider: str
    model: str
    outcome: str = Field(description="ok, timeout, connection_error, rate_limited, server_error, auth_error, ...")
    latency_ms: float
    error: str | None = None


class Usage(BaseModel):
    input_tokens: int
    output_tokens: int
    cost_usd: float | None = Field(description="From the model catalogue; null when the model is unpriced")


class ProviderAnswer(BaseModel):
    """What every provider-backed answer says about how it was produced."""

    request_id: str
    provider: str
    model: str
    fallback_used: bool
    attempts: list[AttemptOut]
    usage: Usage
    latency_ms: float


def attempts_out(attempts: Sequence[Attempt]) -> list[AttemptOut]:
    return [AttemptOut.model_validate(a.as_dict()) for a in attempts]


def provider_answer_fields(result: ChainResult[Any], request_id: str, latency_ms: float) -> dict[str, Any]:
    """The ProviderAnswer fields of a chain's result."""
    return _fields(result.spec, result.fallback_used, result.attempts, result.generation, request_id, latency_ms)


def streamed_answer_fields(stream: ChainStream, generation: Generation, request_id: str) -> dict[str, Any]:
    """The ProviderAnswer fields of a stream that came whole (`generation`: what it streamed)."""
    return _fields(stream.spec, stream.fallback_used, stream.attempts, generation, request_id, 0.0)


def _fields(
    spec: ProviderSpec, fallback_used: bool, attempts: Sequence[Attempt], generation: Generation, request_id: str,
    latency_ms: float,
) -> dict[str, Any]:  # fmt: skip
    return {
        "request_id": request_id,
        "provider": spec.name,
        "model": spec.model,
        "fallback_used": fallback_used,
        "attempts": attempts_out(attempts),
        "usage": Usage(
            input_tokens=generation.input_tokens,
            output_tokens=generation.output_tokens,
            cost_usd=cost_usd(spec.model, generation.input_tokens, generation.output_tokens),
        ),
        "latency_ms": latency_ms,
    }
