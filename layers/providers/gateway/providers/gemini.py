"""Gemini through the official `google-genai` SDK: generation, streamed or not (with `response_schema` for structured
output, function declarations for tools) and embeddings, its settings and its key.

The SDK is imported inside the functions that use it, never at import: the registry imports this module to
read `PROVIDER`, and a function that never calls Gemini must not pay for `google.genai`.
"""

from __future__ import annotations

import json
import os
import ssl
import uuid
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from gateway.core.catalogue import catalogue
from gateway.core.errors import short
from gateway.core.settings import HttpUrlText
from gateway.providers.base import (
    Delta,
    FinishReason,
    Generation,
    GenerationRequest,
    Outcome,
    ProviderError,
    ProviderInfo,
    ProviderSpec,
    ToolCall,
    malformed,
    outcome_for_status,
    parse_retry_after,
    stream_cut,
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
        try:
            response = await self._client.aio.models.generate_content(
                model=self.model, contents=_contents(request), config=self._config(request)
            )
            return _to_generation(response)  # read inside the classifier: a wrong shape is malformed_response
        except Exception as exc:  # classified below; anything unknown is re-raised
            raise _classify(exc) from exc

    async def stream(self, request: GenerationRequest) -> AsyncIterator[Delta]:
        """`client.aio.models.generate_content_stream`: each chunk's text and function calls as they come; the last
        piece carries the finish reason and the usage of the last chunk that reported one (Gemini reports the
        running total on every chunk)."""
        pieces, usage, finish = 0, None, None
        try:
            chunks = await self._client.aio.models.generate_content_stream(
                model=self.model, contents=_contents(request), config=self._config(request)
            )
            async for chunk in chunks:
                usage = _billed(chunk.usage_metadata) or usage
                piece = _to_delta(chunk, usage)
                finish = piece.finish_reason or finish
                if piece.has_content:
                    pieces += 1
                    yield piece
        except Exception as exc:
            raise _classify(exc) from exc
        if finish is None:
            raise stream_cut(pieces)
        if not pieces:
            owed = usage or Generation("", 0, 0, usage_reported=False)
            message = f"the stream had no text (finish reason {finish})"
            raise ProviderError(Outcome.EMPTY_RESPONSE, message, billed=owed, bill_unknown=usage is None)
        yield Delta(finish_reason=finish, usage=usage)

    def _config(self, request: GenerationRequest) -> types.GenerateContentConfig:
        from google.genai import types

        config = types.GenerateContentConfig(
            system_instruction=request.system,
            max_output_tokens=request.max_output_tokens,
            temperature=request.temperature,
            top_p=request.top_p,
            stop_sequences=list(request.stop) or None,
            seed=request.seed,
        )
        info = catalogue().models.get(self.model)
        if info is not None and info.thinking_budget is not None:  # the bound the spend reservation assumed
            config.thinking_config = types.ThinkingConfig(thinking_budget=info.thinking_budget)
        if request.json_schema is not None or request.json_object:
            config.response_mime_type = "application/json"
        if request.json_schema is not None and request.messages:
            config.response_json_schema = request.json_schema  # a client's schema: any JSON Schema, taken as is
        elif request.json_schema is not None:
            config.response_schema = request.json_schema  # the gateway's own schemas are written for this one
        if request.tools:
            config.tools = [types.Tool(function_declarations=[
                types.FunctionDeclaration(name=t.name, description=t.description, parameters_json_schema=t.parameters)
                for t in request.tools
            ])]  # fmt: skip
            config.automatic_function_calling = types.AutomaticFunctionCallingConfig(disable=True)
            config.tool_config = _tool_config(request.tool_choice)
        return config

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
        (vector,) = await self.embed_many([text], self.dimensions, "SEMANTIC_SIMILARITY")
        return vector

    async def embed_many(self, texts: list[str], dimensions: int | None, task: str | None = None) -> list[list[float]]:
        """One vector per text, in one call, normalised (below 3072 dimensions Gemini's are not); `dimensions` None:
        the model's own. ValueError when the answer is not one vector of those dimensions per text."""
        from google.genai import types

        config = types.EmbedContentConfig(output_dimensionality=dimensions, task_type=task)
        response = await self._client.aio.models.embed_content(model=self.model, contents=list(texts), config=config)
        vectors = [embedding.values or [] for embedding in response.embeddings or []]
        if len(vectors) != len(texts) or not all(vectors):
            raise ValueError(f"the embedding answer has {len(vectors)} vectors with values for {len(texts)} texts")
        if dimensions is not None and any(len(values) != dimensions for values in vectors):
            raise ValueError(f"expected {dimensions} dimensions, got {len(vectors[0])}")
        return [_normalised(values) for values in vectors]


def _normalised(values: list[float]) -> list[float]:
    norm = sum(x * x for x in values) ** 0.5
    return [x / norm for x in values] if norm else list(values)


def _tls_context() -> ssl.SSLContext:
    """The TLS context the SDK would make for its httpx2 clients: SSL_CERT_FILE / SSL_CERT_DIR, else the system's."""
    cafile, capath = os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR")
    if cafile or capath:
        return ssl.create_default_context(cafile=cafile, capath=capath)
    import httpx2  # the SDK's HTTP library, already imported with it

    return httpx2.create_ssl_context()


def _contents(request: GenerationRequest) -> list[types.Content]:
    """The conversation as Gemini's contents: assistant turns are the model's (text and function calls), a tool's
    answer is a function response to the call it answers."""
    from google.genai import types

    contents: list[types.Content] = []
    for message in request.conversation():
        if message.role == "tool":
            name = request.tool_name(message.tool_call_id) or "tool"
            answer = types.FunctionResponse(id=message.tool_call_id, name=name, response={"result": message.content})
            contents.append(types.Content(role="user", parts=[types.Part(function_response=answer)]))
            continue
        parts = [types.Part(text=message.content)] if message.content else []
        for call in message.tool_calls:
            arguments = json.loads(call.arguments or "{}")
            parts.append(types.Part(function_call=types.FunctionCall(id=call.id, name=call.name, args=arguments)))
        contents.append(types.Content(role="model" if message.role == "assistant" else "user", parts=parts))
    return contents


def _tool_config(choice: str | None) -> types.ToolConfig:
    """OpenAI's tool_choice as Gemini's function-calling mode: auto, none, required (ANY), or one tool (ANY of it)."""
    from google.genai import types

    modes = {None: "AUTO", "auto": "AUTO", "none": "NONE", "required": "ANY"}
    if choice in modes:
        calling = types.FunctionCallingConfig(mode=types.FunctionCallingConfigMode(modes[choice]))
    else:
        calling = types.FunctionCallingConfig(mode=types.FunctionCallingConfigMode.ANY, allowed_function_names=[choice])
    return types.ToolConfig(function_calling_config=calling)


def _to_delta(chunk: types.GenerateContentResponse, usage: Generation | None) -> Delta:
    """One streamed chunk: its text and function calls; a block (of the prompt, or of the answer so far) raises."""
    owed = usage or Generation("", 0, 0, usage_reported=False)
    feedback = chunk.prompt_feedback
    if feedback is not None and feedback.block_reason is not None:
        blocked = f"prompt blocked: {_enum_name(feedback.block_reason)}"
        raise ProviderError(Outcome.BLOCKED, blocked, billed=owed, bill_unknown=usage is None)
    if not chunk.candidates:
        return Delta()
    candidate = chunk.candidates[0]
    reason = _enum_name(candidate.finish_reason) if candidate.finish_reason is not None else None
    if reason in _BLOCKING_FINISH_REASONS:
        raise ProviderError(Outcome.BLOCKED, f"answer blocked: {reason}", billed=owed, bill_unknown=usage is None)
    parts = candidate.content.parts if candidate.content and candidate.content.parts else []
    text = "".join(part.text for part in parts if part.text and not part.thought)
    calls = _tool_calls(parts)
    finish = None if reason is None else _finish(reason, calls)
    return Delta(text, calls, finish)


def _tool_calls(parts: list[types.Part]) -> tuple[ToolCall, ...]:
    calls = []
    for part in parts:
        call = part.function_call
        if call is not None and call.name:
            call_id = call.id or f"call_{uuid.uuid4().hex[:24]}"
            calls.append(ToolCall(call_id, call.name, json.dumps(call.args or {}, ensure_ascii=False)))
    return tuple(calls)


def _finish(reason: str, calls: tuple[ToolCall, ...]) -> FinishReason:
    if calls:
        return "tool_calls"  # Gemini says STOP after a function call; OpenAI clients look for tool_calls
    return "length" if reason == "MAX_TOKENS" else "stop"


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
    calls = _tool_calls(parts)
    if not text and not calls:
        message = f"candidate has no text (finish reason {reason})"
        raise ProviderError(Outcome.EMPTY_RESPONSE, message, billed=owed, bill_unknown=unknown)
    return Generation(text=text, input_tokens=owed.input_tokens, output_tokens=owed.output_tokens,
                      usage_reported=not unknown, tool_calls=calls, finish_reason=_finish(reason, calls))  # fmt: skip


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
