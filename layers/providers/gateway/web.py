"""The HTTP side every function shares: the FastAPI app, error mapping, request ids, the Lambda entry.

This is the one place where domain errors become HTTP responses, always as
`{"error": {"code", "message", "request_id", "details"?}}` and never with a stack trace.
"""

from __future__ import annotations

import asyncio
import re
import threading
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, cast

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from mangum import Mangum
from starlette.exceptions import HTTPException as StarletteHTTPException

from gateway.chain import Deadline
from gateway.errors import GatewayError, PayloadTooLargeError
from gateway.observability import logger, metrics
from gateway.request_context import RequestContext
from gateway.settings import get_settings
from gateway.stores.secrets import load_provider_keys

LambdaHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "X-Frame-Options": "DENY",
}


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


def request_context(request: Request) -> RequestContext:
    """A FastAPI dependency: settings, provider keys, request id and the deadline.

    The deadline comes from the Lambda's remaining time and API Gateway's limit.
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


def create_app(title: str, description: str) -> FastAPI:
    """A FastAPI app with the gateway's middleware and error handlers."""
    app = FastAPI(title=title, description=description, version="1.0.0", docs_url=None, redoc_url=None)

    @app.middleware("http")
    async def envelope(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        rid = request.state.request_id = _incoming_request_id(request)
        logger.set_correlation_id(rid)
        try:
            limit = get_settings().max_body_bytes
            declared = request.headers.get("content-length", "")
            if (declared.isdigit() and int(declared) > limit) or len(await request.body()) > limit:
                raise PayloadTooLargeError(f"the request body exceeds {limit} bytes")
            response = await call_next(request)
        except GatewayError as exc:
            response = _gateway_error(exc, rid)
        except Exception:
            logger.exception("unhandled error")
            response = error_response(500, "internal_error", "the gateway failed to answer", rid)
        response.headers["X-Request-Id"] = rid
        response.headers.update(SECURITY_HEADERS)
        metrics.add_metric(name="Requests", unit=MetricUnit.Count, value=1)
        if response.status_code >= 500:
            metrics.add_metric(name="ServerErrors", unit=MetricUnit.Count, value=1)
        return response

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
