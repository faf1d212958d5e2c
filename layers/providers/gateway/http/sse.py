"""A streamed answer as server-sent events (`text/event-stream`): each event's JSON as a `data:` line, a keep-alive
comment while the provider is silent, and an error in OpenAI's shape (`data: {"error": {...}}`) as the last event of
a broken answer, after which nothing is sent (no `[DONE]`).

FastAPI's own SSE endpoints (a path operation that yields) send the status before the generator runs, so the first
chunk could not be pulled before it; here the endpoint pulls it first (a failure before it is an HTTP error status),
then hands the rest to this response. The wire format is FastAPI's (`fastapi.sse.format_sse_event`, its keep-alive
comment).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping

from aws_lambda_powertools.metrics import MetricUnit
from fastapi.responses import StreamingResponse
from fastapi.sse import KEEPALIVE_COMMENT, format_sse_event

from gateway.core.errors import GatewayError
from gateway.http.errors import openai_error
from gateway.observability import logger, metrics


def event_stream(
    events: AsyncIterator[str | GatewayError | None], request_id: str, headers: Mapping[str, str]
) -> StreamingResponse:
    """The events as an SSE response: a str is an event's data, None a keep-alive, a GatewayError the end."""

    async def body() -> AsyncIterator[bytes]:
        async for event in events:
            if event is None:
                yield KEEPALIVE_COMMENT
            elif isinstance(event, GatewayError):
                # The status was 200: the log line and `StreamsInterrupted` are what count this failure.
                logger.error("stream ended by an error", extra={"code": event.code, "error_message": event.message})
                metrics.add_metric(name="StreamsInterrupted", unit=MetricUnit.Count, value=1)
                error = openai_error(event.status_code, event.code, event.message, request_id, event.details)
                yield format_sse_event(data_str=json.dumps(error))
                return
            else:
                yield format_sse_event(data_str=event)

    return StreamingResponse(body(), media_type="text/event-stream", headers={"X-Accel-Buffering": "no", **headers})
