"""The one place where errors become HTTP responses, always as `{"error": {"code", "message", "request_id",
"details"?}}` and never with a stack trace."""

from __future__ import annotations

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


def gateway_error_response(exc: GatewayError, rid: str) -> JSONResponse:
    if exc.status_code >= 500:
        logger.error("request failed", extra={"code": exc.code, "error_message": exc.message})
    return error_response(exc.status_code, exc.code, exc.message, rid, exc.details, exc.headers or None)


def install_error_handlers(app: FastAPI) -> None:
    """Domain errors, invalid input and Starlette's own 404/405 in the gateway's error shape."""

    @app.exception_handler(GatewayError)
    async def gateway_error(request: Request, exc: GatewayError) -> Response:
        return gateway_error_response(exc, request_id(request))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        fields = field_errors(exc)
        message = "invalid request: " + "; ".join(f"{f['field']}: {f['message']}" for f in fields)
        return error_response(422, "validation_error", message, request_id(request), details=fields)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return error_response(exc.status_code, code, str(exc.detail), request_id(request))
