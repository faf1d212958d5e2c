"""Hugging Face through the official `huggingface_hub`: chat completion, streamed or not, with tools
(`AsyncInferenceClient`, the "VL LM" backup and the point generator), and dataset commits
(`HfApi`), its settings and its key.

The SDK is imported inside the functions that use it, never at import: the registry imports this module to
read `PROVIDER`, and a function that never calls Hugging Face must not pay for `huggingface_hub`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, field_validator

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
    token_count,
    transport_or_unreadable,
)

if TYPE_CHECKING:
    from huggingface_hub import AsyncInferenceClient

DEFAULT_HF_BASE_URL = "https://router.huggingface.co"
STREAMS_PER_CLIENT = 500


class HuggingFaceSettings(BaseModel):
    """Hugging Face's environment fields."""

    vllm_model: str = Field("meta-llama/Llama-3.1-8B-Instruct", alias="VLLM_MODEL")
    hf_point_generator_model: str = Field("Qwen/Qwen2.5-7B-Instruct", alias="HF_POINT_GENERATOR_MODEL")
    hf_base_url: HttpUrlText = Field(DEFAULT_HF_BASE_URL, alias="HF_BASE_URL")
    huggingface_daily_cost_limit: float | None = Field(
        None, ge=0, allow_inf_nan=False, alias="AI_DAILY_COST_LIMIT_HUGGINGFACE"
    )

    @field_validator("hf_base_url", mode="before")
    @classmethod
    def _default_hf_base_url(cls, value: object) -> object:
        return DEFAULT_HF_BASE_URL if value in ("", None) else value


def _telemetry_off() -> None:
    """Turn huggingface_hub's agent-detection telemetry off (before its first call).

    huggingface_hub names the AI coding agent it detects in each request's user agent. To detect one, a process's
    first call fetches `https://huggingface.co/api/agent-harnesses` synchronously, through a second (sync) HTTP
    client: it blocks the event loop for a round trip to the Hub, or up to 3 s where there is no route to it. The
    list is then cached under HF_HOME (~/.cache/huggingface), which Lambda cannot write (only /tmp is writable),
    so every cold start fetches it again. That is telemetry about an agent no Lambda runs under: off, as
    `HF_HUB_DISABLE_TELEMETRY=1` would turn it off (the flag is read at each call; the environment only at import).
    """
    from huggingface_hub import constants

    constants.HF_HUB_DISABLE_TELEMETRY = True


class _RecycledClients:
    """The `AsyncInferenceClient` that calls go through, replaced after `limit` streams.

    huggingface_hub's async client registers every streamed response on its own exit stack, for `close()` to close,
    and lets go of none of them before then: about 16 KB a stream for the client's life (measured: +29 MB over 1,800
    streams), which in a warm instance grows until it runs out of memory. The SDK has no way to release one, so a
    client serves `limit` streams and is then replaced; the one replaced is closed, with all it holds (an abandoned
    stream's open response included), when its last call ends. A replacement costs a new connection pool and TLS
    context (~20 ms) once per `limit` streams.
    """

    def __init__(self, make: Callable[[], AsyncInferenceClient], limit: int) -> None:
        self._make = make
        self._limit = limit
        self.current = make()
        self._served = 0
        self._calls: dict[int, int] = {}  # id(client) -> calls (streams and whole answers) on it

    @asynccontextmanager
    async def using(self, *, stream: bool) -> AsyncIterator[AsyncInferenceClient]:
        """The current client for one call (a stream counts towards its turn); a client replaced meanwhile is
        closed once no call is on it any more."""
        if stream and self._served >= self._limit:
            retired, self.current, self._served = self.current, self._make(), 0
            if not self._calls.get(id(retired)):
                await _close(retired)
        client = self.current
        if stream:
            self._served += 1
        self._calls[id(client)] = self._calls.get(id(client), 0) + 1
        try:
            yield client
        finally:
            self._calls[id(client)] -= 1
            if not self._calls[id(client)]:
                del self._calls[id(client)]
                if client is not self.current:
                    await _close(client)


async def _close(client: AsyncInferenceClient) -> None:
    await client.close()  # type: ignore[no-untyped-call]  # huggingface_hub leaves it unannotated


class HuggingFaceProvider:
    """OpenAI-shaped chat completion; `response_format` carries the JSON schema."""

    name = "huggingface"

    def __init__(
        self, *, api_key: str, model: str, base_url: str, timeout_ms: int, streams_per_client: int = STREAMS_PER_CLIENT
    ) -> None:
        self.model = model
        self.base_url = base_url
        from huggingface_hub import AsyncInferenceClient

        _telemetry_off()
        self._clients = _RecycledClients(
            lambda: AsyncInferenceClient(base_url=base_url, api_key=api_key, timeout=timeout_ms / 1000),
            streams_per_client,
        )

    async def generate(self, request: GenerationRequest) -> Generation:
        try:
            async with self._clients.using(stream=False) as client:
                output = await client.chat_completion(_messages(request), model=self.model, **_options(request))
        except Exception as exc:
            raise _classify(exc) from exc
        return read_chat_completion(output)

    async def stream(self, request: GenerationRequest) -> AsyncIterator[Delta]:
        """`chat_completion(stream=True)` with the usage in the last chunk: text as it comes; tool calls, whose
        arguments arrive in pieces, whole with the finish reason."""
        pieces, usage, finish = 0, None, None
        calls: dict[int, dict[str, str]] = {}
        from huggingface_hub import ChatCompletionInputStreamOptions

        try:
            async with self._clients.using(stream=True) as client:
                with_usage = ChatCompletionInputStreamOptions(include_usage=True)
                chunks = await client.chat_completion(
                    _messages(request), model=self.model, stream=True, stream_options=with_usage, **_options(request)
                )
                async for chunk in chunks:
                    usage = _usage(getattr(chunk, "usage", None)) or usage
                    choices = getattr(chunk, "choices", None) or []
                    if not isinstance(choices, list):
                        raise malformed(f"a chunk's choices is {type(choices).__name__}, not a list", usage)
                    for choice in choices[:1]:
                        text = _text(getattr(getattr(choice, "delta", None), "content", None), usage)
                        _gather_calls(calls, getattr(getattr(choice, "delta", None), "tool_calls", None))
                        finish = getattr(choice, "finish_reason", None) or finish
                        if text:
                            pieces += 1
                            yield Delta(text)
        except Exception as exc:
            raise _classify(exc) from exc
        if finish is None:
            raise stream_cut(pieces)
        if finish == "content_filter":
            owed = usage or Generation("", 0, 0, usage_reported=False)
            raise ProviderError(Outcome.BLOCKED, "answer blocked: content_filter", billed=owed, bill_unknown=not usage)
        tool_calls = tuple(ToolCall(c["id"], c["name"], c["arguments"] or "{}") for _, c in sorted(calls.items()))
        if not pieces and not tool_calls:
            owed = usage or Generation("", 0, 0, usage_reported=False)
            message = f"the stream had no content (finish reason {finish})"
            raise ProviderError(Outcome.EMPTY_RESPONSE, message, billed=owed, bill_unknown=not usage)
        yield Delta(tool_calls=tool_calls, finish_reason=_finish(finish, tool_calls), usage=usage)

    async def probe(self) -> None:
        await self.generate(GenerationRequest(prompt="ping", max_output_tokens=1))


def _messages(request: GenerationRequest) -> list[dict[str, Any]]:
    """The conversation in the OpenAI shape Hugging Face's chat completion takes."""
    messages: list[dict[str, Any]] = [{"role": "system", "content": request.system}] if request.system else []
    for message in request.conversation():
        turn: dict[str, Any] = {"role": message.role, "content": message.content}
        if message.tool_calls:
            turn["tool_calls"] = [
                {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                for c in message.tool_calls
            ]
        if message.tool_call_id is not None:
            turn["tool_call_id"] = message.tool_call_id
        messages.append(turn)
    return messages


def _options(request: GenerationRequest) -> dict[str, Any]:
    """The request's sampling, output format and tools as chat_completion's arguments."""
    options: dict[str, Any] = {
        "max_tokens": request.max_output_tokens,
        "temperature": request.temperature,
        "top_p": request.top_p,
        "seed": request.seed,
        "stop": list(request.stop) or None,
    }
    if request.json_schema is not None:
        options["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": request.schema_name, "schema": request.json_schema, "strict": True},
        }
    elif request.json_object:
        options["response_format"] = {"type": "json_object"}
    if request.tools:
        options["tools"] = [
            {"type": "function", "function": {"name": t.name, "description": t.description,
                                              "parameters": t.parameters or {"type": "object", "properties": {}}}}
            for t in request.tools
        ]  # fmt: skip
        choice = request.tool_choice
        forced = {"type": "function", "function": {"name": choice}}
        options["tool_choice"] = choice if choice in (None, "auto", "none", "required") else forced
    return options


def _gather_calls(calls: dict[int, dict[str, str]], deltas: Any) -> None:
    """Add a chunk's tool-call pieces (by index: an id and a name first, then the arguments' text in pieces)."""
    for delta in deltas if isinstance(deltas, list) else []:
        index = getattr(delta, "index", None)
        at = index if isinstance(index, int) else len(calls)
        call = calls.setdefault(at, {"id": "", "name": "", "arguments": ""})
        call["id"] = getattr(delta, "id", None) or call["id"] or f"call_{uuid.uuid4().hex[:24]}"
        function = getattr(delta, "function", None)
        name, arguments = getattr(function, "name", None), getattr(function, "arguments", None)
        call["name"] = name if isinstance(name, str) and name else call["name"]
        call["arguments"] += arguments if isinstance(arguments, str) else ""


def _finish(reason: str, calls: tuple[ToolCall, ...]) -> FinishReason:
    if calls:
        return "tool_calls"
    return "length" if reason == "length" else "stop"


def _read_tool_calls(message: Any) -> tuple[ToolCall, ...]:
    """A whole answer's tool calls; arguments given as an object (some servers do) are its JSON text."""
    raw = getattr(message, "tool_calls", None)
    calls = []
    for call in raw if isinstance(raw, list) else []:
        function = getattr(call, "function", None)
        name, arguments = getattr(function, "name", None), getattr(function, "arguments", None)
        if isinstance(name, str) and name:
            text = json.dumps(arguments) if isinstance(arguments, dict) else str(arguments or "")
            calls.append(ToolCall(getattr(call, "id", None) or f"call_{uuid.uuid4().hex[:24]}", name, text or "{}"))
    return tuple(calls)


def read_chat_completion(output: Any) -> Generation:
    """The text and usage of an OpenAI-shaped chat completion, every field checked: huggingface_hub's parser takes
    whatever JSON comes (a `message` that is a string, `choices` that is a string, counts that are strings), so a
    shape the API does not allow is a `malformed_response` here, never an exception. Content given as a list of
    text parts is read as its text."""
    billed = _usage(getattr(output, "usage", None))
    owed = billed or Generation("", 0, 0, usage_reported=False)
    choices = getattr(output, "choices", None)
    if not isinstance(choices, list):
        raise malformed(f"choices is {type(choices).__name__}, not a list", billed)
    if not choices:
        raise ProviderError(Outcome.EMPTY_RESPONSE, "no choices in the answer", billed=owed, bill_unknown=not billed)
    choice = choices[0]
    finish = getattr(choice, "finish_reason", None)
    if finish == "content_filter":
        raise ProviderError(Outcome.BLOCKED, "answer blocked: content_filter", billed=owed, bill_unknown=not billed)
    message = getattr(choice, "message", None)
    if message is None or isinstance(message, str | list | int | float | bool):
        raise malformed(f"the choice's message is {type(message).__name__}, not an object", billed)
    text = _text(getattr(message, "content", None), billed) or ""
    calls = _read_tool_calls(message)
    if not text and not calls:
        message_text = f"choice has no content (finish reason {finish})"
        raise ProviderError(Outcome.EMPTY_RESPONSE, message_text, billed=owed, bill_unknown=not billed)
    return Generation(text=text, input_tokens=owed.input_tokens, output_tokens=owed.output_tokens,
                      usage_reported=billed is not None, tool_calls=calls,
                      finish_reason=_finish(str(finish), calls))  # fmt: skip


def _text(content: Any, billed: Generation | None) -> str | None:
    """A message's content: a string, or a list of parts whose text parts are joined (OpenAI's content parts)."""
    if content is None or isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            text = part.get("text") if isinstance(part, dict) else part if isinstance(part, str) else None
            if not isinstance(text, str):
                raise malformed("a content part has no text", billed)
            texts.append(text)
        return "".join(texts)
    raise malformed(f"the message's content is {type(content).__name__}, not text", billed)


def _usage(usage: Any) -> Generation | None:
    """The billed tokens, when the answer reports them in a shape that can be read (None: it does not)."""
    if usage is None:
        return None
    prompt = token_count(getattr(usage, "prompt_tokens", None))
    completion = token_count(getattr(usage, "completion_tokens", None))
    if prompt is None or completion is None:
        return None
    return Generation("", prompt, completion)


def commit_dataset_file(repo_id: str, token: str, path_in_repo: str, data: bytes, message: str) -> None:
    """Commit one file to a Hugging Face dataset repository (`HfApi.create_commit`)."""
    from huggingface_hub import CommitOperationAdd, HfApi

    _telemetry_off()
    HfApi(token=token).create_commit(
        repo_id=repo_id,
        repo_type="dataset",
        operations=[CommitOperationAdd(path_in_repo=path_in_repo, path_or_fileobj=data)],
        commit_message=message,
    )


def _classify(exc: Exception) -> ProviderError:
    if isinstance(exc, ProviderError):
        return exc
    from huggingface_hub.errors import HfHubHTTPError

    if isinstance(exc, HfHubHTTPError) and exc.response is not None:
        status = exc.response.status_code
        return ProviderError(
            outcome_for_status(status),
            short(f"HTTP {status} {exc.server_message or ''}"),
            status=status,
            retry_after_s=parse_retry_after(exc.response.headers.get("retry-after")),
        )
    classified = transport_or_unreadable(exc)
    if classified is None:
        raise exc
    return classified


def _load_sdk() -> None:
    from huggingface_hub import AsyncInferenceClient  # noqa: F401


def _spec(settings: HuggingFaceSettings, key: str, timeout_ms: int) -> ProviderSpec:
    return ProviderSpec("huggingface", settings.vllm_model, settings.hf_base_url, timeout_ms, key, configured=bool(key))


def _build(spec: ProviderSpec) -> HuggingFaceProvider:
    return HuggingFaceProvider(api_key=spec.key, model=spec.model, base_url=spec.base_url, timeout_ms=spec.timeout_ms)


PROVIDER = ProviderInfo(
    name="huggingface",
    settings=HuggingFaceSettings,
    secret_key="HUGGINGFACE_API_KEY",
    key_required=True,
    env_keys=("HUGGINGFACE_API_KEY", "VLLM_API_KEY"),
    spec=_spec,
    daily_cost_limit=lambda settings: settings.huggingface_daily_cost_limit,
    build=_build,
    load_sdk=_load_sdk,
)
