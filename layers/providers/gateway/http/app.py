"""The FastAPI app every function serves, with the gateway's envelope and error handlers, and the request
context every endpoint receives."""

from __future__ import annotations

import json
import time
from typing import Annotated

from fastapi import Depends, FastAPI, Request

from gateway.config.context import RequestContext
from gateway.http.body import JsonBodyRoute
from gateway.http.envelope import Envelope
from gateway.http.errors import ErrorRender, error_response, install_error_handlers, request_id
from gateway.http.identity import admin_principal, api_key_id


def _remaining_ms(request: Request) -> int | None:
    """The Lambda's remaining time: from Mangum's context, or from the deadline the Lambda Web Adapter passes in
    `x-amzn-lambda-context` (milliseconds since the epoch; `deadline`, or `deadline_ms` as its docs spell it); None
    outside Lambda."""
    context = request.scope.get("aws.context")
    if context is not None:
        remaining: int = context.get_remaining_time_in_millis()
        return remaining
    forwarded = request.headers.get("x-amzn-lambda-context")
    if forwarded:
        try:
            context_json = json.loads(forwarded)
            deadline = context_json.get("deadline", context_json.get("deadline_ms"))
            return int(deadline) - int(time.time() * 1000)
        except (ValueError, KeyError, TypeError):
            return None
    return None


async def request_context(request: Request) -> RequestContext:
    """A FastAPI dependency: settings, provider keys, request id, the deadline and the API key's id.

    The deadline comes from the Lambda's remaining time and API Gateway's limit; the key from API Gateway
    (`requestContext.identity.apiKeyId`), never from the body. `async`, so that FastAPI
    does not hop to a worker thread for it: the keys are cached (a Secrets Manager read blocks only when
    the cache expires, and a Lambda instance serves one request at a time).
    """
    return RequestContext.for_invocation(request_id(request), _remaining_ms(request), api_key_id(request))


async def streaming_context(request: Request) -> RequestContext:
    """As `request_context`, for a function whose answers API Gateway streams: not held to the 29 s of a buffered
    answer, but to the Lambda's remaining time and `CHAT_DEADLINE_SECONDS`."""
    rid = request_id(request)
    return RequestContext.for_invocation(rid, _remaining_ms(request), api_key_id(request), streamed=True)


def create_app(title: str, description: str, render: ErrorRender = error_response) -> FastAPI:
    """A FastAPI app with the gateway's middleware, error handlers (in `render`'s shape) and strict JSON bodies
    (routes declared later)."""
    app = FastAPI(title=title, description=description, version="1.0.0", docs_url=None, redoc_url=None)
    app.router.route_class = JsonBodyRoute  # every JSON body read strictly (gateway.http.body)

    app.add_middleware(Envelope, render=render)
    install_error_handlers(app, render)
    return app


Context = Annotated[RequestContext, Depends(request_context)]
"""An endpoint's parameter for its request context: `ctx: Context`."""
StreamingContext = Annotated[RequestContext, Depends(streaming_context)]
"""The request context of a function whose answers are streamed (the chat function)."""

AdminPrincipal = Annotated[str, Depends(admin_principal)]
"""An admin endpoint's parameter for the IAM principal that called it: `who: AdminPrincipal`."""
