"""Gemini through the official `google-genai` SDK: generation (with `response_schema` for structured output)
and embeddings, its settings and its key.

The SDK is imported inside the functions that use it, never at import: the registry imports this module to
read `PROVIDER`, and a function that never calls Gemini must not pay for `google.genai`.
"""

from __future__ import annotations

import os
import ssl
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from gateway.core.catalogue import catalogue
from gateway.core.errors import short
from gateway.core.settings import HttpUrlText
from gateway.providers.base import (
    Generation,
    GenerationRequest,
    Outcome,
    ProviderError,
    ProviderInfo,
    ProviderSpec,
    malformed,
    outcome_for_status,
    parse_retry_after,
    transport_or_unreadable,
)

if TYPE_CHECKING:
    from google import genai
    from google.genai import types

GEMINI_DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com"
_BLOCKING_FINISH_REASONS = {"SAFETY", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "RECITATION", "IMAGE_SAFETY"}


class GeminiSettings(BaseModel):
    """Gemini's environment fields."""

    gemini_model: str = Field("gemini-2.5-flash", alias="GEMINI_MODEL")
    gemini_base_url: HttpUrlText | None = Field(None, alias="GEMINI_BASE_URL")
    gemini_embedding_model: str = Field("gemini-embedding-001", alias="GEMINI_EMBEDDING_MODEL")
    gemini_daily_cost_limit: float | None = Field(None, ge=0, allow_inf_nan=False, alias="AI_DAILY_COST_LIMIT_GEMINI")


def _client(api_key: str, base_url: str | None, timeout_ms: int, **options: Any) -> genai.Client:
    """A google-genai client whose own retries are off (attempts=1): the gateway owns the only retry loop."""
    from google import genai
    from google.genai import types

    http_options = types.HttpOptions(
        base_url=base_url, timeout=timeout_ms, retry_options=types.HttpRetryOptions(attempts=1), **options
    )
    return genai.Client(api_key=api_key, http_options=http_options)


class GeminiProvider:
    """`client.aio.models.generate_content`, with `response_schema` for structured output."""

    name = "gemini"

    def __init__(self, *, api_key: str, model: str, base_url: str | None, timeout_ms: int) -> None:
        self.model = model
        self.base_url = base_url or GEMINI_DEFAULT_BASE_URL
        # One TLS context for the SDK's HTTP clients and its websocket (Live API) connections alike: left to
        # itself, the SDK loads a second CA bundle (certifi's) for the websockets the gateway never opens, 20-30 ms
        # of every cold start.
        tls = _tls_context()
        # Keep the client referenced for the provider's life: a collected client closes its transport.
        self._client = _client(
            api_key, base_url, timeout_ms, client_args={"verify": tls}, async_client_args={"verify": tls, "ssl": tls}
        )

    async def generate(self, request: GenerationRequest) -> Generation:
        from google.genai import types

        config = types.GenerateContentConfig(
            system_instruction=request.system,
            max_output_tokens=request.max_output_tokens,
            temperature=request.temperature,
        )
        info = catalogue().models.get(self.model)
        if info is not None and info.thinking_budget is not None:  # the bound the spend reservation assumed
            config.thinking_config = types.ThinkingConfig(thinking_budget=info.thinking_budget)
        if request.json_schema is not None:
            config.response_mime_type = "application/json"
            config.response_schema = request.json_schema
        try:
            response = await self._client.aio.models.generate_content(
                model=self.model, contents=request.prompt, config=config
            )
            return _to_generation(response)  # read inside the classifier: a wrong shape is malformed_response
        except Exception as exc:  # classified below; anything unknown is re-raised
            raise _classify(exc) from exc

    async def probe(self) -> None:
        try:
            await self._client.aio.models.get(model=self.model)
        except Exception as exc:
            raise _classify(exc) from exc


class GeminiEmbedder:
    """`client.aio.models.embed_content`, reduced to `dimensions` and normalised."""

    def __init__(
        self,
        *,
        api_key: str,
        model: str,
        base_url: str | None,
        timeout_ms: int,
        dimensions: int = 256,
        httpx_async_client: Any = None,
    ) -> None:
        self.model = model
        self.dimensions = dimensions
        self.name = f"gemini-{model}-{dimensions}"
        self._client = _client(api_key, base_url, timeout_ms, httpx_async_client=httpx_async_client)  # kept referenced

    async def embed(self, text: str) -> list[float]:
        from google.genai import types

        config = types.EmbedContentConfig(output_dimensionality=self.dimensions, task_type="SEMANTIC_SIMILARITY")
        response = await self._client.aio.models.embed_content(model=self.model, contents=[text], config=config)
        if not response.embeddings or not response.embeddings[0].values:
            raise ValueError("the embedding answer has no values")
        values = response.embeddings[0].values
        if len(values) != self.dimensions:
            raise ValueError(f"expected {self.dimensions} dimensions, got {len(values)}")
        norm = sum(x * x for x in values) ** 0.5  # below 3072 dimensions Gemini's vectors are not normalised
        return [x / norm for x in values] if norm else list(values)


def _tls_context() -> ssl.SSLContext:
    """The TLS context the SDK would make for its httpx2 clients: SSL_CERT_FILE / SSL_CERT_DIR, else the system's."""
    cafile, capath = os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR")
    if cafile or capath:
        return ssl.create_default_context(cafile=cafile, capath=capath)
    import httpx2  # the SDK's HTTP library, already imported with it

    return httpx2.create_ssl_context()


def _to_generation(response: types.GenerateContentResponse) -> Generation:
    billed = _billed(response.usage_metadata)
    owed = billed or Generation("", 0, 0, usage_reported=False)  # a blocked or empty answer is billed too
    unknown = billed is None
    feedback = response.prompt_feedback
    if feedback is not None and feedback.block_reason is not None:
        reason = f"prompt blocked: {_enum_name(feedback.block_reason)}"
        raise ProviderError(Outcome.BLOCKED, reason, billed=owed, bill_unknown=unknown)
    if not response.candidates:
        if unknown and response.model_version is None:  # every answer of Gemini's names its model and its usage
            raise malformed("the answer is not a GenerateContentResponse", None)
        raise ProviderError(Outcome.EMPTY_RESPONSE, "no candidates in the answer", billed=owed, bill_unknown=unknown)
    candidate = response.candidates[0]
    if candidate.content is None and candidate.finish_reason is None:
        # Gemini never sends this; the SDK makes it of a shape it could not read (a string where a list belongs)
        raise malformed("a candidate with neither content nor a finish reason", billed)
    reason = _enum_name(candidate.finish_reason)
    if reason in _BLOCKING_FINISH_REASONS:
        raise ProviderError(Outcome.BLOCKED, f"answer blocked: {reason}", billed=owed, bill_unknown=unknown)
    parts = candidate.content.parts if candidate.content and candidate.content.parts else []
    text = "".join(part.text for part in parts if part.text and not part.thought)
    if not text:
        message = f"candidate has no text (finish reason {reason})"
        raise ProviderError(Outcome.EMPTY_RESPONSE, message, billed=owed, bill_unknown=unknown)
    return Generation(text=text, input_tokens=owed.input_tokens, output_tokens=owed.output_tokens,
                      usage_reported=not unknown)  # fmt: skip


def _billed(usage: types.GenerateContentResponseUsageMetadata | None) -> Generation | None:
    """Everything the answer bills: the prompt (tool-use prompts included) as input; the answer and the thinking
    (billed as output) as output, or the total less the input when that is more. None: no usage reported."""
    if usage is None or usage.prompt_token_count is None:
        return None
    prompt = usage.prompt_token_count + (usage.tool_use_prompt_token_count or 0)
    output = (usage.candidates_token_count or 0) + (usage.thoughts_token_count or 0)
    if usage.total_token_count is not None:
        output = max(output, usage.total_token_count - prompt)
    return Generation("", prompt, output)


def _enum_name(value: Any) -> str:
    return str(getattr(value, "value", value))


def _classify(exc: Exception) -> ProviderError:
    if isinstance(exc, ProviderError):
        return exc
    from google.genai import errors

    if isinstance(exc, errors.APIError):
        response = getattr(exc, "response", None)
        headers = getattr(response, "headers", None) or {}
        return ProviderError(
            outcome_for_status(exc.code),
            short(f"HTTP {exc.code} {exc.status or ''} {exc.message or ''}"),
            status=exc.code,
            retry_after_s=parse_retry_after(headers.get("retry-after")),
        )
    classified = transport_or_unreadable(exc)
    if classified is None:
        raise exc
    return classified


def _load_sdk() -> None:
    from google import genai  # noqa: F401
    from google.genai import errors, types  # noqa: F401


def _spec(settings: GeminiSettings, key: str, timeout_ms: int) -> ProviderSpec:
    base_url = settings.gemini_base_url or GEMINI_DEFAULT_BASE_URL
    return ProviderSpec("gemini", settings.gemini_model, base_url, timeout_ms, key, configured=bool(key))


def _build(spec: ProviderSpec) -> GeminiProvider:
    base_url = None if spec.base_url == GEMINI_DEFAULT_BASE_URL else spec.base_url
    return GeminiProvider(api_key=spec.key, model=spec.model, base_url=base_url, timeout_ms=spec.timeout_ms)


def _embedder(settings: GeminiSettings, key: str, timeout_ms: int) -> GeminiEmbedder:
    return GeminiEmbedder(
        api_key=key, model=settings.gemini_embedding_model, base_url=settings.gemini_base_url, timeout_ms=timeout_ms
    )


PROVIDER = ProviderInfo(
    name="gemini",
    settings=GeminiSettings,
    secret_key="GEMINI_API_KEY",
    key_required=True,
    env_keys=("GEMINI_API_KEY",),
    spec=_spec,
    daily_cost_limit=lambda settings: settings.gemini_daily_cost_limit,
    build=_build,
    embedder=_embedder,
    load_sdk=_load_sdk,
)
