"""The one place where errors become HTTP responses, never with a stack trace: in the gateway's shape,
`{"error": {"code", "message", "request_id", "details"?}}`, or, for the OpenAI-compatible function, in OpenAI's,
`{"error": {"message", "type", "param", "code", "request_id"}}` (OpenAI clients parse that one), also as the event
that ends a broken stream."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from gateway.core.errors import GatewayError
from gateway.observability import logger


def error_response(
    status: int, code: str, message: str, request_id: str, details: Any = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    """The one error shape every endpoint answers with."""
    error: dict[str, Any] = {"code": code, "message": message, "request_id": request_id}
    if details is not None:
        error["details"] = details
    return JSONResponse({"error": error}, status_code=status, headers=headers)


ErrorRender = Callable[[int, str, str, str, Any], JSONResponse]
"""An error shape: (status, code, message, request id, details) -> the response."""

# OpenAI's error types by status (what its SDK and clients branch on).
_OPENAI_TYPES = {401: "authentication_error", 403: "permission_error", 429: "rate_limit_error"}


def openai_error(status: int, code: str, message: str, rid: str, details: Any = None) -> dict[str, Any]:
    """An error in OpenAI's shape: `param` names the field at fault, when one is; the gateway's details (the
    attempts) ride along."""
    param = details.get("param") if isinstance(details, dict) else None
    if param is None and isinstance(details, list) and details and isinstance(details[0], dict):
        param = details[0].get("field")
    kind = _OPENAI_TYPES.get(status, "invalid_request_error" if status < 500 else "server_error")
    error: dict[str, Any] = {"message": message, "type": kind, "param": param, "code": code, "request_id": rid}
    if isinstance(details, dict) and "attempts" in details:
        error["attempts"] = details["attempts"]
    return {"error": error}


def openai_error_response(status: int, code: str, message: str, rid: str, details: Any = None) -> JSONResponse:
    """An error response in OpenAI's shape; a request OpenAI would call invalid is its 400, not 422."""
    status = 400 if status == 422 and code == "validation_error" else status
    return JSONResponse(openai_error(status, code, message, rid, details), status_code=status)


def request_id(request: Request) -> str:
    """The request's correlation id: a valid incoming X-Request-Id, else API Gateway's, else a new one."""
    rid: str = getattr(request.state, "request_id", "")
    return rid


def field_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    fields = []
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ()) if part != "body"]
        if error.get("type") == "json_invalid":
            fields.append({"field": "body", "message": "the body is not valid JSON"})
        else:
            fields.append({"field": ".".join(loc) or "body", "message": str(error.get("msg", "invalid"))})
    return fields


def gateway_error_response(exc: GatewayError, rid: str, render: ErrorRender = error_response) -> JSONResponse:
    if exc.status_code >= 500:
        logger.error("request failed", extra={"code": exc.code, "error_message": exc.message})
    response = render(exc.status_code, exc.code, exc.message, rid, exc.details)
    if exc.headers:  # Retry-After, ETag...
        response.headers.update(exc.headers)
    return response


def install_error_handlers(app: FastAPI, render: ErrorRender = error_response) -> None:
    """Domain errors, invalid input and Starlette's own 404/405 in the app's error shape."""

    @app.exception_handler(GatewayError)
    async def gateway_error(request: Request, exc: GatewayError) -> Response:
        return gateway_error_response(exc, request_id(request), render)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        fields = field_errors(exc)
        message = "invalid request: " + "; ".join(f"{f['field']}: {f['message']}" for f in fields)
        return render(422, "validation_error", message, request_id(request), fields)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return render(exc.status_code, code, str(exc.detail), request_id(request), None)
