"""The handle-error endpoint's logic: a structured analysis of an application error.

In order: secrets and personal data are redacted from everything the client sent (nothing else is used
after that), the stack trace is parsed, the error is fingerprinted, and an identical error's cached
analysis is answered at no cost; otherwise the chain is asked, in the answer's natural language.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any, Literal

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gateway.analysis.fingerprints import digest, fingerprint, language_of_text
from gateway.analysis.languages import DEFAULT_LANGUAGE, LANGUAGE_NAMES
from gateway.analysis.redaction import Redactor
from gateway.analysis.stacktraces import ParsedError, language_of, parse_error
from gateway.config.context import RequestContext
from gateway.config.settings import Settings, get_settings
from gateway.endpoints.answers import ProviderAnswer, Usage, provider_answer_fields
from gateway.observability import logger, metrics
from gateway.providers import registry
from gateway.providers.base import GenerationRequest, ProviderKeys, ProviderSpec
from gateway.resilience.attempts import OutputRejectedError
from gateway.resilience.chain import run_chain
from gateway.stores.aws import is_aws_error
from gateway.stores.cache import CacheStore

# Part of every cache key: change it when the prompt or the schema changes what an answer says.
CACHE_VERSION = "error-analysis#v1"


class ErrorDetails(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: str = Field(min_length=1, max_length=20000)
    type: str | None = Field(None, max_length=200)
    stack: str | None = Field(None, max_length=50000)
    code: str | None = Field(None, max_length=50000)
    language: str | None = Field(
        None, max_length=40, description="Programming language (python, javascript, typescript, java, go...)"
    )

    @field_validator("message")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value

    @field_validator("message", "stack", "code")
    @classmethod
    def _under_prompt_cap(cls, value: str | None) -> str | None:
        cap = get_settings().max_prompt_chars_error  # MAX_PROMPT_CHARS_ERROR: each text the model reads
        if value is not None and len(value) > cap:
            raise ValueError(f"must be at most {cap} characters")
        return value


class ErrorRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    error: ErrorDetails
    context: dict[str, Any] | str | None = Field(None, description="Anything that helps: framework, versions...")
    language: str | None = Field(
        None,
        max_length=20,
        description=(
            "The answer's natural language, ISO 639-1 (en, es, fr, de, it, pt, ru, zh, ja, ko, ar, hi...; "
            "pt-BR is read as pt). Absent: the language the error message is written in, else English."
        ),
    )

    @field_validator("language")
    @classmethod
    def _supported_language(cls, value: str | None) -> str | None:
        if value is None:
            return None
        code = re.split(r"[-_]", value.strip().lower(), maxsplit=1)[0]  # pt-BR, zh_Hans: the language
        if code not in LANGUAGE_NAMES:
            raise ValueError(f"must be one of: {', '.join(LANGUAGE_NAMES)}")
        return code


class Analysis(BaseModel):
    """What the model must return; checked before it is passed on."""

    summary: str = Field(min_length=1)
    likely_cause: str = Field(min_length=1)
    fix_steps: list[str] = Field(min_length=1, max_length=20)
    corrected_code: str | None = None
    confidence: float = Field(ge=0, le=1, allow_inf_nan=False)


class FrameOut(BaseModel):
    file: str
    line: int | None = None
    function: str | None = None


class ParsedOut(BaseModel):
    """What the gateway understood of the error before asking a model (from redacted text)."""

    language: str | None = Field(None, description="python, javascript, java or go; absent when unknown")
    exception_type: str | None = None
    message: str | None = None
    frame: FrameOut | None = Field(None, description="The innermost frame of the user's own code")


class RedactionsOut(BaseModel):
    count: int = Field(description="Items replaced by [REDACTED:<kind>] before anything left for a provider")
    kinds: dict[str, int]


class ErrorAnalysisResponse(ProviderAnswer):
    summary: str
    likely_cause: str
    fix_steps: list[str]
    corrected_code: str | None = None
    confidence: float
    answer_language: str = Field(description="ISO 639-1 code of the language the analysis is written in")
    answer_language_source: Literal["requested", "detected", "default"]
    parsed: ParsedOut
    fingerprint: str = Field(description="Identical errors (numbers and ids aside) share it")
    cached: bool = Field(description="Answered from the cache of identical errors, at no cost")
    redactions: RedactionsOut


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


class _Prepared(BaseModel):
    """The request, redacted, with what was understood of it."""

    message: str
    exception_type: str | None
    stack: str | None
    code: str | None
    context: str | None
    parsed: ParsedOut
    answer_language: str
    answer_language_source: Literal["requested", "detected", "default"]
    redactions: RedactionsOut
    fingerprint: str
    cache_key: str


def error_chain(settings: Settings, keys: ProviderKeys) -> list[ProviderSpec]:
    """Gemini, then Hugging Face; configured only."""
    specs = [registry.spec("gemini", settings, keys), registry.spec("huggingface", settings, keys)]
    return [spec for spec in specs if spec.configured]


def prepare(request: ErrorRequest, known_secrets: list[str]) -> _Prepared:
    """Redact, parse, pick the answer's language and fingerprint: everything before a provider."""
    redactor = Redactor(known_secrets)
    error = request.error
    message = redactor.text(error.message)
    exception_type = redactor.optional(error.type)
    stack, code = redactor.optional(error.stack), redactor.optional(error.code)
    context: str | None = None
    if isinstance(request.context, str):
        context = redactor.text(request.context)
    elif request.context:
        context = json.dumps(redactor.data(request.context), ensure_ascii=False, sort_keys=True)
    parsed = _understand(message, exception_type, stack, error.language)
    if request.language is not None:
        answer_language, source = request.language, "requested"
    else:
        detected = language_of_text(f"{message}\n{context}" if isinstance(request.context, str) else message)
        answer_language, source = (detected, "detected") if detected else (DEFAULT_LANGUAGE, "default")
    fingerprint = fingerprint_of(parsed)
    key_parts = [CACHE_VERSION, fingerprint, answer_language, digest(code), digest(context)]
    return _Prepared(
        message=message,
        exception_type=exception_type,
        stack=stack,
        code=code,
        context=context,
        parsed=parsed,
        answer_language=answer_language,
        answer_language_source=source,
        redactions=RedactionsOut.model_validate(redactor.redactions.as_dict()),
        fingerprint=fingerprint,
        cache_key=f"{CACHE_VERSION}#{digest(json.dumps(key_parts))}",
    )


def _understand(message: str, exception_type: str | None, stack: str | None, hint: str | None) -> ParsedOut:
    from_stack = parse_error(stack, hint) if stack else ParsedError(None, None, None, None)
    from_message = parse_error(message, hint)
    frame = from_stack.frame or from_message.frame
    return ParsedOut(
        language=from_stack.language or from_message.language or language_of(hint),
        exception_type=from_stack.exception_type or exception_type or from_message.exception_type,
        message=from_stack.message or from_message.message or message.strip().splitlines()[0],
        frame=FrameOut(file=frame.file, line=frame.line, function=frame.function) if frame else None,
    )


def fingerprint_of(parsed: ParsedOut) -> str:
    """The same for identical errors: type, normalised message and the innermost user frame."""
    frame = parsed.frame
    if frame is None:
        return fingerprint(parsed.exception_type, parsed.message, None, None, None)
    return fingerprint(parsed.exception_type, parsed.message, frame.file, frame.function, frame.line)


def build_prompt(prepared: _Prepared) -> str:
    """The user prompt, from redacted text only."""
    parsed = prepared.parsed
    parts = [f"Error message: {prepared.message}"]
    for label, value in (
        ("Programming language", parsed.language),
        ("Exception type", parsed.exception_type or prepared.exception_type),
        ("Exception message", parsed.message if parsed.message != prepared.message else None),
    ):
        if value:
            parts.append(f"{label}: {value}")
    if parsed.frame is not None:
        frame = parsed.frame
        where = f"{frame.file}, line {frame.line}" if frame.line is not None else frame.file
        parts.append(f"Innermost frame of the user's own code: {where}, in {frame.function or '?'}")
    for label, text in (("Stack trace", prepared.stack), ("Code", prepared.code)):
        if text:
            parts.append(f"{label}:\n{text}")
    if prepared.context:
        parts.append(f"Context: {prepared.context}")
    if prepared.redactions.count:
        parts.append("Values shown as [REDACTED:<kind>] were removed for privacy: do not guess or invent them.")
    parts.append(_language_instruction(prepared.answer_language))
    return "\n\n".join(parts)


def _language_instruction(code: str) -> str:
    name = LANGUAGE_NAMES[code]
    return (
        f"Write summary, likely_cause and fix_steps in {name} ({code}). Keep code, identifiers, file names "
        "and error messages exactly as they are."
    )


def parse_analysis(text: str) -> Analysis:
    try:
        return Analysis.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "answer"
        raise OutputRejectedError(f"the analysis does not match the schema ({where}: {first['msg']})") from None


async def analyse(request: ErrorRequest, ctx: RequestContext) -> ErrorAnalysisResponse:
    """An identical error's cached analysis, else the chain's; an answer that breaks the schema falls back."""
    started = time.perf_counter()
    settings, keys = ctx.settings, ctx.keys
    prepared = prepare(request, keys.values())
    cache = analysis_cache(settings)
    cached = cached_analysis(cache, prepared.cache_key)
    if cached is not None:
        analysis, provider, model = cached
        metrics.add_metric(name="ErrorAnalysisCacheHits", unit=MetricUnit.Count, value=1)
        answer = {
            "request_id": ctx.request_id,
            "provider": provider,
            "model": model,
            "fallback_used": False,
            "attempts": [],
            "usage": Usage(input_tokens=0, output_tokens=0, cost_usd=0.0),
        }
    else:
        result = await run_chain(
            error_chain(settings, keys),
            _generation_request(prepared),
            parse_analysis,
            ctx.deadline,
            secrets=keys.values(),
        )
        analysis = result.value if prepared.code else result.value.model_copy(update={"corrected_code": None})
        answer = provider_answer_fields(result, ctx.request_id, 0.0)
        store_analysis(
            cache, prepared.cache_key, analysis, result.spec.name, result.spec.model, settings.error_cache_ttl_s
        )
    _log(prepared, cached=cached is not None)
    answer["latency_ms"] = round((time.perf_counter() - started) * 1000, 2)
    return ErrorAnalysisResponse(
        **analysis.model_dump(),
        **answer,
        answer_language=prepared.answer_language,
        answer_language_source=prepared.answer_language_source,
        parsed=prepared.parsed,
        fingerprint=prepared.fingerprint,
        cached=cached is not None,
        redactions=prepared.redactions,
    )


def _generation_request(prepared: _Prepared) -> GenerationRequest:
    code_rule = (
        "give corrected_code as the full corrected code" if prepared.code else "leave corrected_code out (no code)"
    )
    return GenerationRequest(
        prompt=build_prompt(prepared),
        system=(
            "You are a senior engineer. Explain the error and how to fix it. Answer only with JSON matching "
            f"the schema; {code_rule}; confidence is 0 to 1. {_language_instruction(prepared.answer_language)}"
        ),
        max_output_tokens=2048,
        temperature=0.2,
        json_schema=ANALYSIS_SCHEMA,
        schema_name="error_analysis",
    )


def analysis_cache(settings: Settings) -> CacheStore | None:
    """The cache of analyses, or None when there is no table or ERROR_CACHE_TTL_SECONDS is 0."""
    if settings.cache_table is None or settings.error_cache_ttl_s == 0:
        return None
    return CacheStore(settings.cache_table)


def cached_analysis(cache: CacheStore | None, key: str) -> tuple[Analysis, str, str] | None:
    """The stored analysis, provider and model; None when absent, unreadable or the store fails."""
    if cache is None:
        return None
    try:
        value = cache.get(key)
        if value is None:
            return None
        return Analysis.model_validate(value["analysis"]), str(value["provider"]), str(value["model"])
    except Exception as exc:
        if not (is_aws_error(exc) or isinstance(exc, KeyError | TypeError | ValidationError)):
            raise
        # The cache saves money; a failing cache must not fail the request.
        logger.warning("error analysis cache unreadable", extra={"reason": type(exc).__name__})
        return None


def store_analysis(
    cache: CacheStore | None, key: str, analysis: Analysis, provider: str, model: str, ttl_s: int
) -> None:
    """Keep an analysis for `ttl_s` seconds; a failing store is logged, not raised."""
    if cache is None:
        return
    value = {"analysis": analysis.model_dump(), "provider": provider, "model": model}
    try:
        cache.put(key, value, ttl_s)
    except Exception as exc:
        if not is_aws_error(exc):
            raise
        logger.warning("error analysis not cached", extra={"reason": type(exc).__name__})


def _log(prepared: _Prepared, *, cached: bool) -> None:
    # Only what cannot carry a secret: no message, stack or code, even redacted.
    logger.info(
        "error analysed",
        extra={
            "fingerprint": prepared.fingerprint,
            "cached": cached,
            "redactions": prepared.redactions.kinds,
            "error_language": prepared.parsed.language,
            "answer_language": prepared.answer_language,
        },
    )
