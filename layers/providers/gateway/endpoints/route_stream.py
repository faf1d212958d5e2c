"""A route answer as a stream of events: the one seam between the route endpoint and the clients that stream (the
WebSocket API's `chat` today).

`stream_answer` yields text chunks in order, then `RouteAnswered` (the whole answer: who answered, the attempts, the
usage) or `RouteFailed` (the error, also after chunks were yielded). Only `RouteAnswered` says the text is complete:
a consumer forwards the chunks as they come and never takes a stream that ended without it for a whole answer.

Until the streaming core lands (each provider's stream through its SDK, a fallback before the first chunk and an
error after it), this runs the buffered route endpoint, `gateway.endpoints.route.answer` (the same chain, deadline,
retries, shared breaker, spend cap, cache and interaction recording), and yields its whole text as ONE chunk.
Consumers must not rely on that.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass

from gateway.config.context import RequestContext
from gateway.core.errors import GatewayError
from gateway.endpoints import route


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


async def stream_answer(request: route.RouteRequest, ctx: RequestContext) -> AsyncGenerator[RouteEvent]:
    """The route endpoint's answer as events. For now the buffered answer as one chunk (see the module's docstring)."""
    try:
        answer = await route.answer(request, ctx)
    except GatewayError as exc:
        yield RouteFailed(exc)
        return
    yield TextChunk(answer.text)
    yield RouteAnswered(answer)
