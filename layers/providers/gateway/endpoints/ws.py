"""The WebSocket API (docs/websocket.md): `$connect` checks the API key and records the connection, `$disconnect`
forgets it, and every message (`$default`) is one client frame, answered through the management API with frames
tagged by the client's id.

Each message is its own invocation (API Gateway invokes the function once per message, concurrently), so several
requests on one connection run at once. A chat runs the route endpoint's logic through one seam,
`gateway.endpoints.route_stream.stream_answer`; `handle_error` and `generate_points` run their HTTP endpoints'. A
client that has gone (410) stops its request, and its connection is forgotten.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.api_gateway_websocket_event import (
    APIGatewayWebSocketEvent,
    APIGatewayWebSocketEventRequestContext,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from gateway.config.context import RequestContext
from gateway.config.settings import Settings, get_settings
from gateway.core.errors import ConfigurationError, GatewayError, StoreUnavailableError
from gateway.core.runtime import run
from gateway.endpoints import error_analysis, points, route, route_stream
from gateway.endpoints.ws_frames import (
    MAX_MESSAGE_BYTES,
    Frame,
    FrameError,
    chunk_frame,
    done_frame,
    encode,
    error_frame,
    parse_frame,
    pong_frame,
    request_of,
)
from gateway.observability import logger, metrics
from gateway.stores.api_keys import api_keys
from gateway.stores.connections import ConnectionGone, ConnectionStore, ManagementApi

API_KEY_HEADER = "x-api-key"
API_KEY_QUERY = "api_key"  # browsers cannot set headers on a WebSocket
# A chunk's text is sent in pieces of at most this many characters: even escaped (6 bytes a character at worst),
# one piece fits a message.
CHUNK_CHARS = 16 * 1024
_STATUS = {"frame_too_large": 413, "invalid_json": 400, "unknown_action": 400, "validation_error": 422}


def handle_event(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """One API Gateway WebSocket event: a connection, a disconnection or a message."""
    _require_websocket_event(event)
    ws_event = APIGatewayWebSocketEvent(event)
    request = ws_event.request_context
    logger.set_correlation_id(request.request_id)
    logger.append_keys(connection_id=request.connection_id)
    if request.event_type == "CONNECT":
        return _connect(ws_event)
    if request.event_type == "DISCONNECT":
        _connections(get_settings()).remove(request.connection_id)
        metrics.add_metric(name="WsDisconnections", unit=MetricUnit.Count, value=1)
        return {"statusCode": 200}
    return run(_message(ws_event, context))


def _require_websocket_event(event: dict[str, Any]) -> None:
    """A one-line ValueError for an event that API Gateway's WebSocket API would never send."""
    context = event.get("requestContext")
    if not isinstance(context, dict) or context.get("eventType") not in ("CONNECT", "DISCONNECT", "MESSAGE"):
        raise ValueError(
            "the ws function only answers API Gateway WebSocket events "
            "(requestContext.eventType CONNECT, DISCONNECT or MESSAGE)"
        )
    for name in ("connectionId", "requestId"):
        if not isinstance(context.get(name), str) or not context[name]:
            raise ValueError(f"a WebSocket event's requestContext.{name} is missing or not a string")


def _connections(settings: Settings) -> ConnectionStore:
    if not settings.connections_table:
        raise ConfigurationError("CONNECTIONS_TABLE is not set: the WebSocket API has nowhere to keep connections")
    return ConnectionStore(settings.connections_table, settings.connection_ttl_s)


def _connect(ws_event: APIGatewayWebSocketEvent) -> dict[str, Any]:
    """Accept the connection when its API key is one the REST API accepts; otherwise refuse it (401/403)."""
    request = ws_event.request_context
    query = ws_event.get("queryStringParameters") or {}
    presented = ws_event.headers.get(API_KEY_HEADER) or query.get(API_KEY_QUERY)
    try:
        if not presented:
            message = f"an API key is required: the {API_KEY_HEADER} header or the {API_KEY_QUERY} query parameter"
            return _refused(401, "missing_api_key", message, request.request_id)
        settings = get_settings()
        if not settings.rest_api_id:
            raise ConfigurationError("REST_API_ID is not set: there is no API key to check against")
        key_id = api_keys(settings.rest_api_id, settings.api_keys_max_age_s).key_id(presented)
        if key_id is None:
            return _refused(403, "invalid_api_key", "the API key is not valid", request.request_id)
        _connections(settings).add(request.connection_id, key_id, request.connected_at)
    except GatewayError as exc:
        logger.error("connection refused", extra={"code": exc.code, "error_message": exc.message})
        return _refused(exc.status_code, exc.code, exc.message, request.request_id)
    metrics.add_metric(name="WsConnections", unit=MetricUnit.Count, value=1)
    logger.info("connection accepted", extra={"api_key_id": key_id})
    return {"statusCode": 200}


def _refused(status: int, code: str, message: str, request_id: str) -> dict[str, Any]:
    metrics.add_metric(name="WsConnectionsRefused", unit=MetricUnit.Count, value=1)
    body = json.dumps({"error": {"code": code, "message": message, "request_id": request_id}})
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": body}


class Outbox:
    """The frames of one request to its connection, sent in order through the management API."""

    def __init__(self, request: APIGatewayWebSocketEventRequestContext, settings: Settings) -> None:
        endpoint = settings.ws_management_url or f"https://{request.domain_name}/{request.stage}"
        self._api = ManagementApi(endpoint)
        self.connection_id = request.connection_id
        self.request_id = request.request_id

    async def send_text(self, frame_id: str, text: str) -> None:
        """A piece of an answer, as one `chunk` frame or, when it would not fit a message, several."""
        for start in range(0, len(text), CHUNK_CHARS):
            await self.send(chunk_frame(frame_id, text[start : start + CHUNK_CHARS]))

    async def send(self, frame: dict[str, Any]) -> None:
        """Send a frame (ConnectionGone when the client has left); an answer too large for one becomes an error."""
        data = encode(frame)
        if len(data) > MAX_MESSAGE_BYTES:
            message = f"the answer is {len(data)} bytes, over the {MAX_MESSAGE_BYTES} a message may carry; use HTTP"
            data = encode(error_frame(frame.get("id"), "answer_too_large", message, self.request_id))
        await asyncio.to_thread(self._api.send, self.connection_id, data)

    async def error(self, frame_id: str | None, exc: GatewayError | FrameError, status: int) -> int:
        await self.send(error_frame(frame_id, exc.code, exc.message, self.request_id, exc.details))
        return status


async def _message(ws_event: APIGatewayWebSocketEvent, context: LambdaContext) -> dict[str, Any]:
    """Answer one client frame; the log line and the metrics say how it went, as the HTTP envelope's do."""
    started = time.perf_counter()
    settings = get_settings()
    outbox = Outbox(ws_event.request_context, settings)
    frame: Frame | None = None
    status = 200
    try:
        try:
            frame = parse_frame(ws_event.decoded_body or "")
            status = await _answer(frame, outbox, context)
        except FrameError as exc:
            status = await outbox.error(exc.frame_id, exc, _STATUS.get(exc.code, 400))
        except ConnectionGone:
            raise
        except Exception:
            logger.exception("the frame could not be answered")
            status = await outbox.error(frame.id if frame else None, GatewayError("the gateway failed to answer"), 500)
    except ConnectionGone:
        status = 410  # the client left: nothing more is sent, and the connection is forgotten
        _connections(settings).remove(outbox.connection_id)
        metrics.add_metric(name="WsClientsGone", unit=MetricUnit.Count, value=1)
    latency_ms = round((time.perf_counter() - started) * 1000, 2)
    action = frame.action if frame else None
    logger.info("frame answered", extra={"action": action, "frame_id": frame.id if frame else None,
                                         "status": status, "latency_ms": latency_ms})  # fmt: skip
    metrics.add_metric(name="Requests", unit=MetricUnit.Count, value=1)
    if 400 <= status < 500 and status != 410:
        metrics.add_metric(name="ClientErrors", unit=MetricUnit.Count, value=1)
    elif status >= 500:
        metrics.add_metric(name="ServerErrors", unit=MetricUnit.Count, value=1)
    return {"statusCode": 200}


async def _answer(frame: Frame, outbox: Outbox, context: LambdaContext) -> int:
    """Run the frame's action and send its frames; the HTTP status its outcome would have had."""
    if frame.action == "ping":
        await outbox.send(pong_frame(frame.id))
        return 200
    assert frame.id is not None  # every other action requires one (parse_frame)
    try:
        key_id = _api_key_of(outbox.connection_id)
        ctx = RequestContext.for_invocation(outbox.request_id, context.get_remaining_time_in_millis(), key_id)
        if frame.action == "chat":
            return await _chat(frame, frame.id, ctx, outbox)
        answer: error_analysis.ErrorAnalysisResponse | points.PointsResponse
        if frame.action == "handle_error":
            answer = await error_analysis.analyse(request_of(error_analysis.ErrorRequest, frame), ctx)
        else:
            answer = await points.generate(request_of(points.PointsRequest, frame), ctx)
    except GatewayError as exc:
        return await outbox.error(frame.id, exc, exc.status_code)
    await outbox.send(done_frame(frame.id, answer.model_dump(mode="json", exclude_none=True)))
    return 200


_KEYS_OF_CONNECTIONS: dict[str, str] = {}  # connection id -> its API key's id (a connection's key never changes)


def _api_key_of(connection_id: str) -> str | None:
    """The API key a connection was accepted with (its budget and usage count the connection's requests): read once
    per connection and instance."""
    known = _KEYS_OF_CONNECTIONS.get(connection_id)
    if known is None:
        try:
            known = _connections(get_settings()).api_key_id(connection_id)
        except GatewayError:
            raise
        except Exception as exc:  # no key, no budget to hold the request to: not answered rather than unchecked
            logger.error("connection unreadable", extra={"error": f"{type(exc).__name__}: {exc}"})
            raise StoreUnavailableError("the connections table is unavailable; send the frame again") from exc
        if known is not None:
            if len(_KEYS_OF_CONNECTIONS) >= 4096:
                _KEYS_OF_CONNECTIONS.clear()
            _KEYS_OF_CONNECTIONS[connection_id] = known
    return known


async def _chat(frame: Frame, frame_id: str, ctx: RequestContext, outbox: Outbox) -> int:
    """The route endpoint's answer as `chunk` frames, then `done` (all but the text) or `error`."""
    fields = {"user_id": f"ws:{outbox.connection_id}", **frame.fields}
    request = request_of(route.RouteRequest, Frame(frame.action, frame_id, fields))
    events = route_stream.stream_answer(request, ctx)
    try:
        async for event in events:
            if isinstance(event, route_stream.TextChunk):
                await outbox.send_text(frame_id, event.text)
            elif isinstance(event, route_stream.RouteAnswered):
                answer = event.answer.model_dump(mode="json", exclude={"text"}, exclude_none=True)
                await outbox.send(done_frame(frame_id, answer))
                return 200
            else:
                return await outbox.error(frame_id, event.error, event.error.status_code)
    finally:
        await events.aclose()  # a client gone mid-answer stops the provider's stream
    raise RuntimeError("the answer's stream ended without an answer or an error")
