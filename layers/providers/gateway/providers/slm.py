"""The small model (sLM) behind any `/generate` HTTP service, through `httpx`: its client, settings and key.

`httpx` is imported when the first client is built, never at import: the registry imports this module to read
`PROVIDER`.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any, Literal

from pydantic import BaseModel, Field

from gateway.core.errors import short
from gateway.core.settings import HttpUrlText
from gateway.providers.base import (
    Delta,
    Generation,
    GenerationRequest,
    Outcome,
    ProviderError,
    ProviderInfo,
    ProviderSpec,
    outcome_for_status,
    outcome_for_transport_error,
    parse_retry_after,
    token_count,
)


class SlmSettings(BaseModel):
    """The sLM's environment fields: used when `SLM_MODE=http` and an endpoint is set."""

    slm_mode: Literal["local", "http"] = Field("local", alias="SLM_MODE")
    slm_endpoint_url: HttpUrlText | None = Field(None, alias="SLM_ENDPOINT_URL")
    slm_model: str = Field("slm", alias="SLM_MODEL")
    slm_timeout_ms: int = Field(8000, gt=0, alias="SLM_TIMEOUT_MS")

    @property
    def slm_enabled(self) -> bool:
        return self.slm_mode == "http" and self.slm_endpoint_url is not None


_BLOCKED = re.compile(r"\bblock(ed)?\b|content.filter|safety", re.IGNORECASE)


class SlmProvider:
    """`POST {SLM_ENDPOINT_URL}` with `{"prompt", "max_new_tokens", "temperature"}`.

    Accepts the common answer shapes: `{"generated_text"}`, `{"text"}` and TGI's
    `[{"generated_text"}]` (the text as a string or a list of text parts), with optional `input_tokens` /
    `output_tokens` (numbers, or numbers in strings; else estimated from the words; it is free either way). A
    refusal is a 400 or 422 whose body mentions a block, a content filter or safety.
    """

    name = "slm"

    def __init__(self, *, endpoint_url: str, model: str, bearer: str, timeout_ms: int) -> None:
        self.model = model
        self.base_url = endpoint_url
        import httpx

        self._http_error = httpx.HTTPError
        headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
        self._client = httpx.AsyncClient(headers=headers, timeout=timeout_ms / 1000)

    async def generate(self, request: GenerationRequest) -> Generation:
        if request.json_schema is not None or request.json_object:
            raise ProviderError(Outcome.INVALID_REQUEST, "the sLM service does not support structured output")
        if request.tools:
            raise ProviderError(Outcome.INVALID_REQUEST, "the sLM service does not support tools")
        prompt = _prompt(request)
        body: dict[str, Any] = {"prompt": prompt, "max_new_tokens": request.max_output_tokens}
        if request.temperature is not None:
            body["temperature"] = request.temperature
        try:
            response = await self._client.post(self.base_url, json=body)
        except self._http_error as exc:
            raise ProviderError(
                outcome_for_transport_error(exc) or Outcome.CONNECTION_ERROR, short(f"{type(exc).__name__}: {exc}")
            ) from exc
        if response.status_code in (400, 422) and _BLOCKED.search(response.text):
            raise ProviderError(Outcome.BLOCKED, short(f"HTTP {response.status_code} {response.text}"))
        if response.status_code >= 400:
            raise ProviderError(
                outcome_for_status(response.status_code),
                short(f"HTTP {response.status_code} {response.text}"),
                status=response.status_code,
                retry_after_s=parse_retry_after(response.headers.get("retry-after")),
            )
        try:
            data = response.json()
        except ValueError:
            raise ProviderError(Outcome.MALFORMED_RESPONSE, "answer is not JSON") from None
        if isinstance(data, list) and data:
            data = data[0]
        if not isinstance(data, dict):
            raise ProviderError(Outcome.MALFORMED_RESPONSE, "answer is not a JSON object")
        text = data.get("generated_text", data.get("text"))
        if isinstance(text, list) and all(isinstance(p, dict) and isinstance(p.get("text"), str) for p in text):
            text = "".join(part["text"] for part in text)  # content given as text parts
        if text is None:
            raise ProviderError(Outcome.EMPTY_RESPONSE, "answer has no generated_text")
        if not isinstance(text, str):
            raise ProviderError(Outcome.MALFORMED_RESPONSE, f"generated_text is {type(text).__name__}, not text")
        if not text.strip():
            raise ProviderError(Outcome.EMPTY_RESPONSE, "answer text is empty")
        return Generation(
            text=text,
            input_tokens=_int(data.get("input_tokens"), len(prompt.split())),
            output_tokens=_int(data.get("output_tokens"), len(text.split())),
        )

    async def stream(self, request: GenerationRequest) -> AsyncIterator[Delta]:
        """The sLM does not stream: its whole answer is one piece."""
        generation = await self.generate(request)
        yield Delta(generation.text, finish_reason="stop", usage=generation)

    async def probe(self) -> None:
        await self.generate(GenerationRequest(prompt="ping", max_output_tokens=1))


def _prompt(request: GenerationRequest) -> str:
    """One prompt for a `/generate` service: the system instruction, then the turns (labelled when there are
    several: a conversation)."""
    turns = request.conversation()
    body = turns[0].content if len(turns) == 1 else "\n".join(f"{turn.role}: {turn.content}" for turn in turns)
    return f"{request.system}\n\n{body}" if request.system else body


def _int(value: object, fallback: int) -> int:
    count = token_count(value)
    return fallback if count is None else count


def _spec(settings: SlmSettings, key: str, timeout_ms: int) -> ProviderSpec:
    endpoint = settings.slm_endpoint_url or ""
    return ProviderSpec("slm", settings.slm_model, endpoint, settings.slm_timeout_ms, key, settings.slm_enabled)


def _load_sdk() -> None:
    import httpx  # noqa: F401


def _build(spec: ProviderSpec) -> SlmProvider:
    return SlmProvider(endpoint_url=spec.base_url, model=spec.model, bearer=spec.key, timeout_ms=spec.timeout_ms)


PROVIDER = ProviderInfo(
    name="slm",
    settings=SlmSettings,
    secret_key="SLM_AUTH_BEARER",
    key_required=False,
    env_keys=("SLM_AUTH_BEARER",),
    spec=_spec,
    daily_cost_limit=lambda settings: None,  # the sLM is priced at nothing
    build=_build,
    load_sdk=_load_sdk,
)
