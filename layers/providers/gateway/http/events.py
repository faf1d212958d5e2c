"""What a Lambda event must be before a handler reads it: a JSON object, and, when it looks like API Gateway's,
a REST proxy event whose fields have their types (a base64 body that is base64).

API Gateway never sends anything else, but a misconfigured integration, a test event or a hand-made invoke can, and
the answer must say what is wrong instead of raising a bare `TypeError` or `binascii.Error` (which API Gateway turns
into a 502). Written here rather than taken from Powertools' event classes: those read fields lazily and raise the
same bare errors on a wrong shape.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from typing import Any

# Keys only API Gateway's proxy events carry: an event with any of them is answered as HTTP.
API_KEYS = frozenset({"httpMethod", "requestContext", "resource", "path", "multiValueHeaders", "isBase64Encoded"})
_OPTIONAL_OBJECTS = ("headers", "multiValueHeaders", "queryStringParameters", "multiValueQueryStringParameters",
                     "pathParameters", "stageVariables", "requestContext")  # fmt: skip


def require_object(event: object) -> dict[str, Any]:
    """The event, when it is a JSON object; else a one-line ValueError naming what it is."""
    if not isinstance(event, dict):
        raise ValueError(f"a Lambda event must be a JSON object, not {type(event).__name__}")
    return event


def looks_like_api(event: dict[str, Any]) -> bool:
    return bool(API_KEYS & event.keys())


def api_event_problem(event: dict[str, Any]) -> str | None:
    """What is wrong with an API Gateway REST proxy event, or None when it can be served."""
    method, path = event.get("httpMethod"), event.get("path")
    if not isinstance(method, str) or not method:
        return "httpMethod is missing or not a string"
    if not isinstance(path, str) or not path.startswith("/"):
        return "path is missing or not an absolute path"
    for name in _OPTIONAL_OBJECTS:
        if event.get(name) is not None and not isinstance(event[name], dict):
            return f"{name} must be an object or null"
    for name in ("headers", "queryStringParameters"):
        values = event.get(name) or {}
        if not all(isinstance(v, str) for v in values.values()):
            return f"every value of {name} must be a string"
    body, encoded = event.get("body"), event.get("isBase64Encoded", False)
    if body is not None and not isinstance(body, str):
        return "body must be a string or null"
    if not isinstance(encoded, bool):
        return "isBase64Encoded must be true or false"
    if encoded and body:
        try:
            base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            return "isBase64Encoded is true but the body is not valid base64"
    return None


def bad_event_response(event: dict[str, Any], problem: str) -> dict[str, Any]:
    """A 400 in the gateway's error shape, with the headers every answer carries."""
    from gateway.http.envelope import SECURITY_HEADERS  # imports Starlette: only for an event this bad

    context = event.get("requestContext")
    request_id = context.get("requestId") if isinstance(context, dict) else None
    request_id = request_id if isinstance(request_id, str) and request_id else str(uuid.uuid4())
    error = {"code": "invalid_event", "message": f"invalid API Gateway event: {problem}", "request_id": request_id}
    return {
        "statusCode": 400,
        "headers": {"Content-Type": "application/json", "X-Request-Id": request_id, **SECURITY_HEADERS},
        "body": json.dumps({"error": error}),
        "isBase64Encoded": False,
    }


def batch_of(event: dict[str, Any], *sources: str) -> str:
    """The event source of a batch (`aws:sqs`, `aws:dynamodb`): `Records`, a non-empty list of objects from one of
    `sources`; else a one-line ValueError naming what is wrong."""
    records = event.get("Records")
    expected = " or ".join(sources)
    if not isinstance(records, list) or not records:
        raise ValueError(f"expected a batch of {expected} records (a non-empty Records list), not {describe(event)}")
    if not all(isinstance(record, dict) for record in records):
        raise ValueError("every record of the batch must be an object")
    found = {record.get("eventSource") for record in records}
    if len(found) != 1 or not found <= set(sources):
        raise ValueError(f"expected {expected} records, got records from {sorted(str(s) for s in found)}")
    return str(found.pop())


def describe(event: dict[str, Any]) -> str:
    keys = sorted(str(key) for key in event)[:5]
    return "an event with keys " + ", ".join(keys) if keys else "an empty event"
