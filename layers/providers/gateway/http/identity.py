"""Who sent a request, as API Gateway says in the event's `requestContext.identity`: the API key's id (never its
value, which the event also carries) for the public API, and the IAM principal for the admin methods (SigV4,
`Authorizer: AWS_IAM` in template.yaml; locally the local API names the loopback caller).

A function served through Mangum reads the event itself (`aws.event`); one served by uvicorn behind the Lambda Web
Adapter (a stream) reads the same request context from the `x-amzn-request-context` header, which the adapter
stamps on every request from API Gateway's event."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request

ADAPTER_CONTEXT_HEADER = "x-amzn-request-context"


def _identity(request: Request) -> dict[str, Any]:
    event = request.scope.get("aws.event")
    if isinstance(event, dict):
        context = event.get("requestContext")
    else:
        try:
            context = json.loads(request.headers.get(ADAPTER_CONTEXT_HEADER) or "null")
        except ValueError:
            context = None
    identity = context.get("identity") if isinstance(context, dict) else None
    return identity if isinstance(identity, dict) else {}


def api_key_id(request: Request) -> str | None:
    """The id of the API key API Gateway accepted for this request; None without one."""
    value = _identity(request).get("apiKeyId")
    return value if isinstance(value, str) and value else None


def admin_principal(request: Request) -> str:
    """The IAM principal that signed an admin request (its ARN), as every admin change is logged and recorded."""
    identity = _identity(request)
    for name in ("userArn", "caller", "user", "accessKey"):
        value = identity.get(name)
        if isinstance(value, str) and value:
            return value
    return "unknown"
