"""Gemini through the official `google-genai` SDK."""

from __future__ import annotations

import os
import ssl
from typing import Any

import httpx2
from google import genai
from google.genai import errors, types

from gateway.providers.base import (
    Generation,
    GenerationRequest,
    Outcome,
    ProviderError,
    outcome_for_status,
    outcome_for_transport_error,
    parse_retry_after,
    short,
)
from gateway.providers.registry import GEMINI_DEFAULT_BASE_URL

_BLOCKING_FINISH_REASONS = {"SAFETY", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "RECITATION", "IMAGE_SAFETY"}


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
        # The gateway owns the only retry loop, so the SDK's stays off (attempts=1).
        options = types.HttpOptions(
            base_url=base_url,
            timeout=timeout_ms,
            retry_options=types.HttpRetryOptions(attempts=1),
            client_args={"verify": tls},
            async_client_args={"verify": tls, "ssl": tls},
        )
        # Keep the client referenced for the provider's life: a collected client closes its transport.
        self._client = genai.Client(api_key=api_key, http_options=options)

    async def generate(self, request: GenerationRequest) -> Generation:
        config = types.GenerateContentConfig(
            system_instruction=request.system,
            max_output_tokens=request.max_output_tokens,
            temperature=request.temperature,
        )
        if request.json_schema is not None:
            config.response_mime_type = "application/json"
            config.response_schema = request.json_schema
        try:
            response = await self._client.aio.models.generate_content(
                model=self.model, contents=request.prompt, config=config
            )
        except Exception as exc:  # classified below; anything unknown is re-raised
            raise _classify(exc) from exc
        return _to_generation(response)

    async def probe(self) -> None:
        try:
            await self._client.aio.models.get(model=self.model)
        except Exception as exc:
            raise _classify(exc) from exc


def _tls_context() -> ssl.SSLContext:
    """The TLS context the SDK would make for its httpx2 clients: SSL_CERT_FILE / SSL_CERT_DIR, else the system's."""
    cafile, capath = os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR")
    if cafile or capath:
        return ssl.create_default_context(cafile=cafile, capath=capath)
    return httpx2.create_ssl_context()


def _to_generation(response: types.GenerateContentResponse) -> Generation:
    usage = response.usage_metadata
    billed = Generation(  # a blocked or empty answer is billed too: its usage goes with the error
        text="",
        input_tokens=(usage.prompt_token_count or 0) if usage else 0,
        output_tokens=((usage.candidates_token_count or 0) + (usage.thoughts_token_count or 0)) if usage else 0,
    )
    feedback = response.prompt_feedback
    if feedback is not None and feedback.block_reason is not None:
        raise ProviderError(Outcome.BLOCKED, f"prompt blocked: {_enum_name(feedback.block_reason)}", billed=billed)
    if not response.candidates:
        raise ProviderError(Outcome.EMPTY_RESPONSE, "no candidates in the answer", billed=billed)
    candidate = response.candidates[0]
    reason = _enum_name(candidate.finish_reason)
    if reason in _BLOCKING_FINISH_REASONS:
        raise ProviderError(Outcome.BLOCKED, f"answer blocked: {reason}", billed=billed)
    parts = candidate.content.parts if candidate.content and candidate.content.parts else []
    text = "".join(part.text for part in parts if part.text and not part.thought)
    if not text:
        raise ProviderError(Outcome.EMPTY_RESPONSE, f"candidate has no text (finish reason {reason})", billed=billed)
    return Generation(text=text, input_tokens=billed.input_tokens, output_tokens=billed.output_tokens)


def _enum_name(value: Any) -> str:
    return str(getattr(value, "value", value))


def _classify(exc: Exception) -> ProviderError:
    if isinstance(exc, ProviderError):
        return exc
    if isinstance(exc, errors.APIError):
        response = getattr(exc, "response", None)
        headers = getattr(response, "headers", None) or {}
        return ProviderError(
            outcome_for_status(exc.code),
            short(f"HTTP {exc.code} {exc.status or ''} {exc.message or ''}"),
            status=exc.code,
            retry_after_s=parse_retry_after(headers.get("retry-after")),
        )
    outcome = outcome_for_transport_error(exc)
    if outcome is None:
        raise exc
    return ProviderError(outcome, short(f"{type(exc).__name__}: {exc}"))
