"""The OpenAI-compatible chat completions (docs/openai.md): `auto` routes as `POST /v1/route` does, a catalogue model
goes first with the configured fallbacks after it; whole answers through the chain, streams through the streaming
chain (a fallback before the first token, `provider_stream_failed` after it); the interaction recorded once the
answer is whole.

A streamed answer is a series of events for `gateway.http.sse`: the JSON text of each chunk, None for a keep-alive
while the provider is silent, `[DONE]` after a whole answer only, or the GatewayError that ends a broken one.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from gateway.analysis.languages import LANGUAGE_NAMES
from gateway.config.context import RequestContext
from gateway.core.catalogue import catalogue, cost_usd
from gateway.core.errors import GatewayError, ModelNotFoundError
from gateway.endpoints.answers import attempts_out
from gateway.endpoints.chat_models import ChatCompletionRequest, NamedToolChoice, UnsupportedFieldError
from gateway.learning import recording
from gateway.providers import registry
from gateway.providers.base import Generation, GenerationRequest, Message, ProviderSpec, Tool, ToolCall
from gateway.resilience.attempts import Attempt, OutputRejectedError
from gateway.resilience.chain import open_stream, run_chain
from gateway.routing.plan import RouteDecision, decide, plan_chain
from gateway.routing.slm_health import slm_healthy

AUTO = "auto"


@dataclass(frozen=True)
class _RoutePrompt:
    prompt: str
    topic_hint: str | None = None
    language: str | None = None
    max_output_tokens: int = 1024


@dataclass
class ChatPlan:
    """Where a chat request goes and what it asks: the chain, the provider request, how an answer is checked."""

    body: ChatCompletionRequest
    specs: list[ProviderSpec]
    request: GenerationRequest
    parse: Callable[[str], str]
    created: int
    started: float
    ctx: RequestContext
    _decision: RouteDecision | None = None

    @property
    def decision(self) -> RouteDecision:
        """The route endpoint's decision for the prompt (topic, language): made when `auto` needs its chain, else
        only when the answer is recorded, off the way to the first token."""
        if self._decision is None:
            prompt = _RoutePrompt(self.request.prompt or " ", max_output_tokens=self.body.max_output_tokens)
            self._decision = decide(prompt, self.ctx.settings, self.ctx.keys)
        return self._decision


def plan(body: ChatCompletionRequest, ctx: RequestContext) -> ChatPlan:
    """The chain for the request's model and the provider request; UnsupportedFieldError, ModelNotFoundError."""
    body.refuse_what_cannot_be_honoured()
    system = "\n\n".join(m.text for m in body.messages if m.role in ("system", "developer")) or None
    turns = tuple(
        Message(
            "system" if m.role == "developer" else m.role,
            m.text,
            tuple(ToolCall(c.id, c.function.name, c.function.arguments) for c in m.tool_calls or ()),
            m.tool_call_id,
        )
        for m in body.messages
    )
    prompt = next((m.content for m in reversed(turns) if m.role == "user"), turns[-1].content)
    choice = body.tool_choice
    schema = body.response_format.json_schema if body.response_format else None
    request = GenerationRequest(
        prompt=prompt,
        system=system,
        max_output_tokens=body.max_output_tokens,
        temperature=body.temperature,
        json_schema=schema.schema_ if schema else None,
        schema_name=schema.name if schema else "answer",
        messages=turns,
        top_p=body.top_p,
        stop=(body.stop,) if isinstance(body.stop, str) else tuple(body.stop or ()),
        seed=body.seed,
        json_object=body.response_format is not None and body.response_format.type == "json_object",
        tools=tuple(Tool(t.function.name, t.function.description, t.function.parameters) for t in body.tools or ()),
        tool_choice=choice.function.name if isinstance(choice, NamedToolChoice) else choice,
    )
    chat = ChatPlan(body, [], request, _parser(request), int(time.time()), time.perf_counter(), ctx)
    specs = chat.decision.specs if body.model == AUTO else _chain_for(body.model, ctx)
    if request.tools or request.json_object or request.json_schema is not None:  # not asked of a model that cannot
        models = catalogue().models
        specs = [spec for spec in specs if spec.model not in models or models[spec.model].structured_output]
    chat.specs = specs
    return chat


def _chain_for(model: str, ctx: RequestContext) -> list[ProviderSpec]:
    """The model first, then the configured cloud chain (its default models) less the same model."""
    info = catalogue().models.get(model)
    if info is None or info.provider not in registry.PROVIDERS:
        raise ModelNotFoundError(f"the model {model!r} does not exist; GET /v1/models lists them")
    first = registry.spec(info.provider, ctx.settings, ctx.keys, model=model)
    cloud, _ = plan_chain(ctx.settings, ctx.keys, "complex", lambda: slm_healthy(ctx.settings))
    return [spec for spec in [first, *cloud] if spec.configured and (spec is first or spec.model != model)]


def _parser(request: GenerationRequest) -> Callable[[str], str]:
    """How an answer is checked before it is passed on: JSON for json_object, the schema for json_schema (a tool
    call has no text to check)."""
    validate: Callable[[Any], Any] | None = None
    if request.json_schema is not None:
        import fastjsonschema  # only for the requests that bring a schema

        try:
            validate = fastjsonschema.compile(request.json_schema)
        except Exception as exc:  # a definition error, or a schema its compiler cannot read at all
            raise UnsupportedFieldError(
                "response_format.json_schema.schema", f"not a usable JSON Schema: {exc}"
            ) from None

    def parse(text: str) -> str:
        if not (request.json_object or validate) or (not text and request.tools):
            return text
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise OutputRejectedError(f"the answer is not JSON: {exc}") from None
        if not isinstance(value, dict):
            raise OutputRejectedError("the answer is not a JSON object")
        if validate is not None:
            validate(value)  # JsonSchemaValueException is a ValueError: the answer is rejected, the next one tried
        return text

    return parse


async def complete(body: ChatCompletionRequest, ctx: RequestContext) -> tuple[dict[str, Any], dict[str, str]]:
    """A whole chat completion (OpenAI's shape, with a `gateway` field) and its `x-gateway-*` headers."""
    chat = plan(body, ctx)
    result = await run_chain(chat.specs, chat.request, chat.parse, ctx.deadline, secrets=ctx.keys.values())
    answer = completion(chat, result.spec, result.generation, ctx.request_id)
    answer["gateway"] = {
        "request_id": ctx.request_id,
        "provider": result.spec.name,
        "fallback_used": result.fallback_used,
        "attempts": [a.model_dump(exclude_none=True) for a in attempts_out(result.attempts)],
        "cost_usd": cost_usd(result.spec.model, result.generation.input_tokens, result.generation.output_tokens),
        "latency_ms": round((time.perf_counter() - chat.started) * 1000, 2),
    }
    _record(chat, result.spec, result.generation, ctx)
    return answer, headers(result.spec, result.attempts, result.fallback_used)


def completion(chat: ChatPlan, spec: ProviderSpec, generation: Generation, request_id: str) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": generation.text or None}
    if generation.tool_calls:
        message["tool_calls"] = _calls(generation.tool_calls)
    return {
        "id": f"chatcmpl-{request_id}",
        "object": "chat.completion",
        "created": chat.created,
        "model": spec.model,
        "choices": [{"index": 0, "message": message, "finish_reason": generation.finish_reason, "logprobs": None}],
        "usage": _usage(generation),
    }


def headers(
    spec: ProviderSpec, attempts: list[Attempt], fallback_used: bool, streaming: bool = False
) -> dict[str, str]:
    """Who answers and what was tried: `x-gateway-provider`, `-model`, `-fallback`, `-attempts` (provider:outcome)."""
    tried = [f"{a.provider}:{a.outcome}" for a in attempts] + ([f"{spec.name}:streaming"] if streaming else [])
    return {
        "x-gateway-provider": spec.name,
        "x-gateway-model": spec.model,
        "x-gateway-fallback": "true" if fallback_used else "false",
        "x-gateway-attempts": ", ".join(tried),
    }


async def start_stream(
    body: ChatCompletionRequest, ctx: RequestContext
) -> tuple[AsyncIterator[str | GatewayError | None], dict[str, str]]:
    """The first chunk pulled (so that a failure before it is an HTTP error, after every fallback), then the events.

    An answer held to a JSON schema or to JSON is checked whole before it is sent, so it comes as one chunk, and a
    provider whose answer breaks it is fallen back from as for a whole answer.
    """
    chat = plan(body, ctx)
    if chat.request.json_schema is not None or chat.request.json_object:
        result = await run_chain(chat.specs, chat.request, chat.parse, ctx.deadline, secrets=ctx.keys.values())
        _record(chat, result.spec, result.generation, ctx)
        whole = _whole_as_chunks(chat, result.spec, result.generation, ctx.request_id)
        return whole, headers(result.spec, result.attempts, result.fallback_used)
    stream = await open_stream(chat.specs, chat.request, ctx.deadline, secrets=ctx.keys.values())
    heads = headers(stream.spec, stream.attempts, stream.fallback_used, streaming=True)

    async def events() -> AsyncIterator[str | GatewayError | None]:
        chunk = _Chunks(chat, stream.spec, ctx.request_id)
        pieces = stream.pieces(ctx.settings.sse_keepalive_ms / 1000)
        try:
            yield chunk.role()
            async for piece in pieces:
                if piece is None:
                    yield None
                elif piece.text or piece.tool_calls:
                    yield chunk.delta(piece.text, piece.tool_calls)
        except GatewayError as exc:
            yield exc  # no finish, no [DONE]: the answer is not whole
            return
        finally:
            await pieces.aclose()  # a client gone mid-answer ends the provider's stream
        assert stream.generation is not None
        _record(chat, stream.spec, stream.generation, ctx)
        yield chunk.finish(stream.generation)
        if body.wants_usage:
            yield chunk.usage(stream.generation)
        yield "[DONE]"

    return events(), heads


async def _whole_as_chunks(
    chat: ChatPlan, spec: ProviderSpec, generation: Generation, request_id: str
) -> AsyncIterator[str | GatewayError | None]:
    chunk = _Chunks(chat, spec, request_id)
    yield chunk.role()
    yield chunk.delta(generation.text, generation.tool_calls)
    yield chunk.finish(generation)
    if chat.body.wants_usage:
        yield chunk.usage(generation)
    yield "[DONE]"


class _Chunks:
    """OpenAI's `chat.completion.chunk` objects of one answer, as JSON text."""

    def __init__(self, chat: ChatPlan, spec: ProviderSpec, request_id: str) -> None:
        head = {"id": f"chatcmpl-{request_id}", "object": "chat.completion.chunk", "created": chat.created}
        self._head = json.dumps({**head, "model": spec.model})[:-1]  # the common start of every chunk
        self._calls = 0
        self._usage_null = chat.body.wants_usage

    def _chunk(self, delta: dict[str, Any], finish: str | None = None) -> str:
        choice = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
        usage = ', "usage": null' if self._usage_null else ""
        return f'{self._head}, "choices": [{json.dumps(choice, ensure_ascii=False)}]{usage}}}'

    def role(self) -> str:
        return self._chunk({"role": "assistant", "content": ""})

    def delta(self, text: str, calls: tuple[ToolCall, ...]) -> str:
        delta: dict[str, Any] = {"content": text} if text else {}
        if calls:
            delta["tool_calls"] = [{"index": self._calls + i, **call} for i, call in enumerate(_calls(calls))]
            self._calls += len(calls)
        return self._chunk(delta)

    def finish(self, generation: Generation) -> str:
        return self._chunk({}, generation.finish_reason)

    def usage(self, generation: Generation) -> str:
        return f'{self._head}, "choices": [], "usage": {json.dumps(_usage(generation))}}}'


def _calls(calls: tuple[ToolCall, ...]) -> list[dict[str, Any]]:
    return [{"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}} for c in calls]


def _usage(generation: Generation) -> dict[str, int]:
    return {
        "prompt_tokens": generation.input_tokens,
        "completion_tokens": generation.output_tokens,
        "total_tokens": generation.input_tokens + generation.output_tokens,
    }


def _record(chat: ChatPlan, spec: ProviderSpec, generation: Generation, ctx: RequestContext) -> None:
    decision = chat.decision
    answer = generation.text or json.dumps(_calls(generation.tool_calls))
    recording.record(
        recording.Answered(
            user_id=chat.body.user or "chat",
            topic=decision.topic,
            language=decision.language if decision.language in LANGUAGE_NAMES else "en",
            prompt=chat.request.prompt,
            answer=answer,
            provider=spec.name,
            model=spec.model,
            input_tokens=generation.input_tokens,
            output_tokens=generation.output_tokens,
            cost_usd=cost_usd(spec.model, generation.input_tokens, generation.output_tokens),
            cached=False,
        ),
        ctx,
    )
