"""What every request goes through: the correlation id (`X-Request-Id`), the body cap, CORS, the security
headers, the log line and the request metrics.

CORS preflights (`OPTIONS`) reach the functions through API Gateway (an `OPTIONS` event per path in
template.yaml) and are answered here, so that the allow-list (`CORS_ALLOW_ORIGINS`) can hold several origins and
lives in one place.
"""

from __future__ import annotations

import re
import time
import uuid

from aws_lambda_powertools.metrics import MetricUnit
from fastapi import Request, Response
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.config.settings import Settings, environment_settings
from gateway.core.errors import GatewayError, PayloadTooLargeError
from gateway.http.errors import ErrorRender, error_response, gateway_error_response
from gateway.observability import logger, metrics

REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")  # a client's X-Request-Id that is used and echoed
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
CORS_REQUEST_HEADERS = ("Content-Type", "X-Api-Key", "Authorization", "X-Request-Id", "Cache-Control")
CORS_EXPOSED_HEADERS = (
    "X-Request-Id, Location, Retry-After, X-Gateway-Provider, X-Gateway-Model, X-Gateway-Fallback, X-Gateway-Attempts"
)
CORS_MAX_AGE_S = 600  # browsers reuse a preflight's answer this long (Chrome caps it at 7200)


def _incoming_request_id(request: Request) -> str:
    header = request.headers.get("x-request-id", "")
    if REQUEST_ID_PATTERN.match(header):
        return header
    event = request.scope.get("aws.event") or {}
    api_id = (event.get("requestContext") or {}).get("requestId")
    return str(api_id) if api_id else str(uuid.uuid4())


class Envelope:
    """What every request goes through: correlation id, body cap, CORS, security headers, log line, metrics.

    A plain ASGI middleware rather than `@app.middleware("http")`: Starlette's BaseHTTPMiddleware runs
    the app in a task group behind memory streams, a quarter of a millisecond per request for nothing.
    """

    def __init__(self, app: ASGIApp, render: ErrorRender = error_response) -> None:
        self.app = app
        self.render = render

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
                settings = environment_settings()  # CORS and the body cap are the deployment's, never runtime's
                allowed_origin = _allowed_origin(origin, settings)
                if request.method == "OPTIONS" and origin and "access-control-request-method" in request.headers:
                    response = _preflight(request, allowed_origin, rid, self.render)
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
                    response = gateway_error_response(exc, rid, self.render)
                else:
                    logger.exception("unhandled error")
                    response = self.render(500, "internal_error", "the gateway failed to answer", rid, None)
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


def _allowed_origin(origin: str | None, settings: Settings) -> str | None:
    """The Access-Control-Allow-Origin for this origin: itself when allowed, "*" when any is, else None."""
    allowed = settings.cors_origins
    if not origin or not allowed:
        return None
    if "*" in allowed:
        return "*"
    return origin if origin in allowed else None


def _preflight(request: Request, allowed_origin: str | None, rid: str, render: ErrorRender) -> Response:
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
    return render(403, "cors_not_allowed", f"CORS preflight refused: {problem}", rid, None)
