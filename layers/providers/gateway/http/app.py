"""The FastAPI app every function serves, with the gateway's envelope and error handlers, and the request
context every endpoint receives."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, Request

from gateway.config.context import RequestContext
from gateway.http.body import JsonBodyRoute
from gateway.http.envelope import Envelope
from gateway.http.errors import install_error_handlers, request_id
from gateway.http.identity import admin_principal, api_key_id


async def request_context(request: Request) -> RequestContext:
    """A FastAPI dependency: settings, provider keys, request id, the deadline and the API key's id.

    The deadline comes from the Lambda's remaining time and API Gateway's limit; the key from API Gateway
    (`requestContext.identity.apiKeyId`), never from the body. `async`, so that FastAPI
    does not hop to a worker thread for it: the keys are cached (a Secrets Manager read blocks only when
    the cache expires, and a Lambda instance serves one request at a time).
    """
    context = request.scope.get("aws.context")
    remaining = context.get_remaining_time_in_millis() if context is not None else None
    return RequestContext.for_invocation(request_id(request), remaining, api_key_id(request))


def create_app(title: str, description: str) -> FastAPI:
    """A FastAPI app with the gateway's middleware, error handlers and strict JSON bodies (routes declared later)."""
    app = FastAPI(title=title, description=description, version="1.0.0", docs_url=None, redoc_url=None)
    app.router.route_class = JsonBodyRoute  # every JSON body read strictly (gateway.http.body)

    app.add_middleware(Envelope)
    install_error_handlers(app)
    return app


Context = Annotated[RequestContext, Depends(request_context)]
"""An endpoint's parameter for its request context: `ctx: Context`."""

AdminPrincipal = Annotated[str, Depends(admin_principal)]
"""An admin endpoint's parameter for the IAM principal that called it: `who: AdminPrincipal`."""
