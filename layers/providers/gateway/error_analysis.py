"""The handle-error endpoint's logic: a structured analysis of an application error."""

from __future__ import annotations

import json
import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gateway.chain import OutputRejectedError, run_chain
from gateway.contracts import ProviderAnswer, provider_answer_fields
from gateway.providers import registry
from gateway.providers.base import GenerationRequest
from gateway.request_context import RequestContext
from gateway.settings import Settings
from gateway.stores.secrets import ProviderKeys


class ErrorDetails(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: str = Field(min_length=1, max_length=20000)
    type: str | None = Field(None, max_length=200)
    stack: str | None = Field(None, max_length=50000)
    code: str | None = Field(None, max_length=50000)
    language: str | None = Field(None, max_length=40, description="Programming language, e.g. python")

    @field_validator("message")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value


class ErrorRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    error: ErrorDetails
    context: dict[str, Any] | str | None = Field(None, description="Anything that helps: framework, versions...")


class Analysis(BaseModel):
    """What the model must return; checked before it is passed on."""

    summary: str = Field(min_length=1)
    likely_cause: str = Field(min_length=1)
    fix_steps: list[str] = Field(min_length=1, max_length=20)
    corrected_code: str | None = None
    confidence: float = Field(ge=0, le=1, allow_inf_nan=False)


class ErrorAnalysisResponse(ProviderAnswer):
    summary: str
    likely_cause: str
    fix_steps: list[str]
    corrected_code: str | None = None
    confidence: float


ANALYSIS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "summary": {"type": "string", "description": "One sentence: what went wrong"},
        "likely_cause": {"type": "string"},
        "fix_steps": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 20},
        "corrected_code": {"type": "string", "description": "Only when code was given"},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
    },
    "required": ["summary", "likely_cause", "fix_steps", "confidence"],
}


def error_chain(settings: Settings, keys: ProviderKeys) -> list[registry.ProviderSpec]:
    """Gemini, then Hugging Face; configured only."""
    specs = [registry.gemini(settings, keys), registry.huggingface(settings, keys)]
    return [spec for spec in specs if spec.configured]


def build_prompt(request: ErrorRequest) -> str:
    error = request.error
    parts = [f"Error message: {error.message}"]
    for label, value in (("Exception type", error.type), ("Language", error.language)):
        if value:
            parts.append(f"{label}: {value}")
    for label, value in (("Stack trace", error.stack), ("Code", error.code)):
        if value:
            parts.append(f"{label}:\n{value}")
    if request.context:
        context = request.context if isinstance(request.context, str) else json.dumps(request.context)
        parts.append(f"Context: {context}")
    return "\n\n".join(parts)


def parse_analysis(text: str) -> Analysis:
    try:
        return Analysis.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "answer"
        raise OutputRejectedError(f"the analysis does not match the schema ({where}: {first['msg']})") from None


async def analyse(request: ErrorRequest, ctx: RequestContext) -> ErrorAnalysisResponse:
    """Ask the chain for a structured analysis; an answer that breaks the schema falls back."""
    started = time.perf_counter()
    settings, keys = ctx.settings, ctx.keys
    generation_request = GenerationRequest(
        prompt=build_prompt(request),
        system=(
            "You are a senior engineer. Explain the error and how to fix it. Answer only with JSON "
            "matching the schema; give corrected_code only when code was given; confidence is 0 to 1."
        ),
        max_output_tokens=2048,
        temperature=0.2,
        json_schema=ANALYSIS_SCHEMA,
        schema_name="error_analysis",
    )
    result = await run_chain(
        error_chain(settings, keys), generation_request, parse_analysis, ctx.deadline, secrets=keys.values()
    )
    analysis = result.value
    if not request.error.code:
        analysis = analysis.model_copy(update={"corrected_code": None})
    latency_ms = round((time.perf_counter() - started) * 1000, 2)
    return ErrorAnalysisResponse(**analysis.model_dump(), **provider_answer_fields(result, ctx.request_id, latency_ms))
