"""A route answer as a stream of events: the one seam between the route endpoint and the clients that stream (the
WebSocket API's `chat`).

`stream_answer` yields text chunks in order, as the provider streams them, then `RouteAnswered` (the whole answer: who
answered, the attempts, the usage) or `RouteFailed` (the error, also after chunks were yielded). Only `RouteAnswered`
says the text is complete: a consumer forwards the chunks as they come and never takes a stream that ended without it
for a whole answer.

It is the route endpoint's logic (`gateway.endpoints.route`: the same decision, chain, deadline, retries, shared
breaker, spend cap, cache and interaction recording) over the streaming chain (`gateway.resilience.chain.open_stream`):
a provider failing before its first chunk falls back, and shows only in the answer's `attempts`; one failing after it
ends the request with `RouteFailed` (`provider_stream_failed`). A cached answer is one chunk. The answer is cached and
recorded once the stream is whole.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass

from gateway.config.context import RequestContext
from gateway.core.errors import GatewayError
from gateway.endpoints import route
from gateway.endpoints.answers import streamed_answer_fields
from gateway.resilience.chain import open_stream


@dataclass(frozen=True)
class TextChunk:
    """The next piece of the answer's text."""

    text: str


@dataclass(frozen=True)
class RouteAnswered:
    """The answer is complete: its text is every chunk joined; the rest says how it was produced."""

    answer: route.RouteResponse


@dataclass(frozen=True)
class RouteFailed:
    """The request failed (before any chunk, or after some: then the text so far is not an answer)."""

    error: GatewayError


RouteEvent = TextChunk | RouteAnswered | RouteFailed


async def stream_answer(
    request: route.RouteRequest, ctx: RequestContext, *, cache_control: str | None = None
) -> AsyncGenerator[RouteEvent]:
    """The route endpoint's answer as events, streamed from the provider as it answers."""
    plan = route.plan(request, ctx, cache_control)
    hit = await plan.cached(ctx)
    if hit is not None:
        yield TextChunk(str(hit["text"]))
        yield RouteAnswered(route.answered(plan, ctx, str(hit["text"]), route.cached_answer_fields(hit, ctx.request_id),
                                           cached=True))  # fmt: skip
        return
    try:
        stream = await open_stream(
            plan.decision.specs, plan.generation_request, ctx.deadline, secrets=ctx.keys.values()
        )
    except GatewayError as exc:
        yield RouteFailed(exc)
        return
    pieces = stream.pieces()
    try:
        async for piece in pieces:
            if piece is not None and piece.text:
                yield TextChunk(piece.text)
    except GatewayError as exc:
        yield RouteFailed(exc)
        return
    finally:
        await pieces.aclose()  # a consumer that stops early (a client gone) ends the provider's stream
    assert stream.generation is not None  # set when the pieces end
    fields = streamed_answer_fields(stream, stream.generation, ctx.request_id)
    yield RouteAnswered(route.answered(plan, ctx, stream.generation.text, fields, cached=False))
