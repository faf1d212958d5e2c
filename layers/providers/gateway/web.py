"""The HTTP side every function shares: the FastAPI app, error mapping, request ids, the Lambda entry.

This is the one place where domain errors become HTTP responses, always as
`{"error": {"code", "message", "request_id", "details"?}}` and never with a stack trace, and the one
place for what every response carries: the correlation id (`X-Request-Id`), the security headers and,
for an origin in `CORS_ALLOW_ORIGINS`, the CORS headers. CORS preflights (`OPTIONS`) reach the
functions through API Gateway (an `OPTIONS` event per path in template.yaml) and are answered here,
so that the allow-list can hold several origins and lives in one place.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, cast

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from mangum import Mangum
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.chain import Deadline
from gateway.errors import GatewayError, PayloadTooLargeError
from gateway.observability import logger, metrics
from gateway.request_context import RequestContext
from gateway.settings import Settings, get_settings
from gateway.stores.secrets import load_provider_keys

LambdaHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
}
# CORS: what a browser may send and read. API keys go in X-Api-Key, never in cookies: no credentials.
CORS_METHODS = ("GET", "POST")
CORS_REQUEST_HEADERS = ("Content-Type", "X-Api-Key", "X-Request-Id", "Cache-Control")
CORS_EXPOSED_HEADERS = "X-Request-Id, Location, Retry-After"
CORS_MAX_AGE_S = 600  # browsers reuse a preflight's answer this long (Chrome caps it at 7200)


def error_response(status: int, code: str, message: str, request_id: str, details: Any = None) -> JSONResponse:
    """The one error shape every endpoint answers with."""
    error: dict[str, Any] = {"code": code, "message": message, "request_id": request_id}
    if details is not None:
        error["details"] = details
    return JSONResponse({"error": error}, status_code=status)


def request_id(request: Request) -> str:
    """The request's correlation id: a valid incoming X-Request-Id, else API Gateway's, else a new one."""
    rid: str = getattr(request.state, "request_id", "")
    return rid


async def request_context(request: Request) -> RequestContext:
    """A FastAPI dependency: settings, provider keys, request id and the deadline.

    The deadline comes from the Lambda's remaining time and API Gateway's limit. `async`, so that FastAPI
    does not hop to a worker thread for it: the keys are cached (a Secrets Manager read blocks only when
    the cache expires, and a Lambda instance serves one request at a time).
    """
    settings = get_settings()
    context = request.scope.get("aws.context")
    remaining = context.get_remaining_time_in_millis() if context is not None else None
    return RequestContext(settings, load_provider_keys(settings), request_id(request), Deadline.for_request(remaining))


def _incoming_request_id(request: Request) -> str:
    header = request.headers.get("x-request-id", "")
    if _REQUEST_ID.match(header):
        return header
    event = request.scope.get("aws.event") or {}
    api_id = (event.get("requestContext") or {}).get("requestId")
    return str(api_id) if api_id else str(uuid.uuid4())


def _field_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    fields = []
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ()) if part != "body"]
        if error.get("type") == "json_invalid":
            fields.append({"field": "body", "message": "the body is not valid JSON"})
        else:
            fields.append({"field": ".".join(loc) or "body", "message": str(error.get("msg", "invalid"))})
    return fields


class Envelope:
    """What every request goes through: correlation id, body cap, CORS, security headers, log line, metrics.

    A plain ASGI middleware rather than `@app.middleware("http")`: Starlette's BaseHTTPMiddleware runs
    the app in a task group behind memory streams, a quarter of a millisecond per request for nothing.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request = Request(scope, receive)
        rid = request.state.request_id = _incoming_request_id(request)
        logger.set_correlation_id(rid)
        origin = request.headers.get("origin")
        allowed_origin: str | None = None
        status = 500
        sent = False

        async def send_with_headers(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status, sent = message["status"], True
                headers = MutableHeaders(scope=message)
                headers["X-Request-Id"] = rid
                headers.update(SECURITY_HEADERS)
                if allowed_origin is not None:
                    headers["Access-Control-Allow-Origin"] = allowed_origin
                    headers["Access-Control-Expose-Headers"] = CORS_EXPOSED_HEADERS
                if origin is not None and allowed_origin != "*":
                    headers["Vary"] = "Origin"
            await send(message)

        try:
            try:
                settings = get_settings()
                allowed_origin = _allowed_origin(origin, settings)
                if request.method == "OPTIONS" and origin and "access-control-request-method" in request.headers:
                    response = _preflight(request, allowed_origin, rid)
                    allowed_origin = allowed_origin if response.status_code < 400 else None
                    await response(scope, receive, send_with_headers)
                else:
                    limit = settings.max_body_bytes
                    declared = request.headers.get("content-length", "")
                    if declared.isdigit() and int(declared) > limit:
                        raise PayloadTooLargeError(f"the request body exceeds {limit} bytes")
                    body = await request.body()
                    if len(body) > limit:
                        raise PayloadTooLargeError(f"the request body exceeds {limit} bytes")
                    await self.app(scope, _replay(body, receive), send_with_headers)
            except Exception as exc:
                if sent:  # too late for an error response: the answer is cut short, and counted as a 500
                    logger.exception("error after the response started")
                    status = 500
                    raise
                if isinstance(exc, GatewayError):
                    response = _gateway_error(exc, rid)
                else:
                    logger.exception("unhandled error")
                    response = error_response(500, "internal_error", "the gateway failed to answer", rid)
                await response(scope, receive, send_with_headers)
        finally:
            latency_ms = round((time.perf_counter() - started) * 1000, 2)
            logger.info(
                "request answered",
                extra={"method": request.method, "path": request.url.path, "status": status, "latency_ms": latency_ms},
            )
            metrics.add_metric(name="Requests", unit=MetricUnit.Count, value=1)
            if 400 <= status < 500:
                metrics.add_metric(name="ClientErrors", unit=MetricUnit.Count, value=1)
            elif status >= 500:
                metrics.add_metric(name="ServerErrors", unit=MetricUnit.Count, value=1)
            metrics.add_metadata(key="request_id", value=rid)


def _replay(body: bytes, receive: Receive) -> Receive:
    """An ASGI `receive` that hands the app the body the middleware has already read, then the real one."""
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if delivered:
            return await receive()  # e.g. a disconnect, for a streaming response
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def create_app(title: str, description: str) -> FastAPI:
    """A FastAPI app with the gateway's middleware and error handlers."""
    app = FastAPI(title=title, description=description, version="1.0.0", docs_url=None, redoc_url=None)

    app.add_middleware(Envelope)

    @app.exception_handler(GatewayError)
    async def gateway_error(request: Request, exc: GatewayError) -> Response:
        return _gateway_error(exc, request_id(request))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        fields = _field_errors(exc)
        message = "invalid request: " + "; ".join(f"{f['field']}: {f['message']}" for f in fields)
        return error_response(422, "validation_error", message, request_id(request), details=fields)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return error_response(exc.status_code, code, str(exc.detail), request_id(request))

    return app


def _allowed_origin(origin: str | None, settings: Settings) -> str | None:
    """The Access-Control-Allow-Origin for this origin: itself when allowed, "*" when any is, else None."""
    allowed = settings.cors_origins
    if not origin or not allowed:
        return None
    if "*" in allowed:
        return "*"
    return origin if origin in allowed else None


def _preflight(request: Request, allowed_origin: str | None, rid: str) -> Response:
    """A browser's CORS preflight: 204 with what it may send, or 403 saying what is not allowed."""
    method = request.headers.get("access-control-request-method", "").upper()
    asked = [h.strip() for h in request.headers.get("access-control-request-headers", "").split(",") if h.strip()]
    allowed_headers = {h.lower() for h in CORS_REQUEST_HEADERS}
    refused = [h for h in asked if h.lower() not in allowed_headers]
    if allowed_origin is None:
        problem = f"origin {request.headers.get('origin')!r} is not in CORS_ALLOW_ORIGINS"
    elif method not in CORS_METHODS:
        problem = f"method {method or '(none)'} is not allowed; use one of {', '.join(CORS_METHODS)}"
    elif refused:
        problem = f"headers not allowed: {', '.join(refused)}; allowed: {', '.join(CORS_REQUEST_HEADERS)}"
    else:
        headers = {
            "Access-Control-Allow-Methods": ", ".join(CORS_METHODS),
            "Access-Control-Allow-Headers": ", ".join(CORS_REQUEST_HEADERS),
            "Access-Control-Max-Age": str(CORS_MAX_AGE_S),
        }
        return Response(status_code=204, headers=headers)
    return error_response(403, "cors_not_allowed", f"CORS preflight refused: {problem}", rid)


def _gateway_error(exc: GatewayError, rid: str) -> JSONResponse:
    if exc.status_code >= 500:
        logger.error("request failed", extra={"code": exc.code, "error_message": exc.message})
    return error_response(exc.status_code, exc.code, exc.message, rid, exc.details)


_thread_loops = threading.local()


def event_loop() -> asyncio.AbstractEventLoop:
    """This thread's event loop, reused across invocations so that SDK clients stay usable."""
    loop: asyncio.AbstractEventLoop | None = getattr(_thread_loops, "loop", None)
    if loop is None or loop.is_closed():
        loop = _thread_loops.loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    return loop


def lambda_entry(app: FastAPI, on_event: LambdaHandler | None = None) -> LambdaHandler:
    """The Lambda handler: Powertools decorators around Mangum, plus non-HTTP events via `on_event`."""
    asgi = Mangum(app, lifespan="off")

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
    @metrics.log_metrics(capture_cold_start_metric=True)
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        event_loop()
        if "httpMethod" not in event and "requestContext" not in event:
            if on_event is None:
                raise ValueError("this function only answers API Gateway events")
            return on_event(event, context)
        return dict(asgi(event, cast(Any, context)))  # two LambdaContext protocols, one object

    return cast(LambdaHandler, handler)
