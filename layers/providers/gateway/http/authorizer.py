"""The REST API's Lambda authorizer (a REQUEST authorizer; the API's `ApiKeySourceType` is AUTHORIZER).

It only says which key the request presents: `x-api-key`, else the token of `Authorization: Bearer <key>` (OpenAI
clients send their key so). API Gateway then checks that key against the usage plans as it checks an `x-api-key`
(403 when it is unknown or disabled) and applies the plan's throttling and quota. A request that presents no key is
refused here (401). Nothing is read from AWS: the key is never looked up, so this costs no control-plane call.
"""

from __future__ import annotations

from typing import Any

from gateway.http.events import require_object

BEARER = "bearer "


def presented_key(headers: dict[str, str] | None) -> str | None:
    """The API key in the headers: `x-api-key`, else a bearer token; None when there is neither."""
    found = {name.lower(): value.strip() for name, value in (headers or {}).items() if isinstance(value, str)}
    if found.get("x-api-key"):
        return found["x-api-key"]
    authorization = found.get("authorization", "")
    if authorization.lower().startswith(BEARER) and authorization[len(BEARER) :].strip():
        return authorization[len(BEARER) :].strip()
    return None


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Allow the method with the presented key as the usage identifier; raise `Unauthorized` (API Gateway's 401)
    when there is none."""
    event = require_object(event)
    if not isinstance(event.get("methodArn"), str) or not isinstance(event.get("headers") or {}, dict):
        raise ValueError("the authorizer only answers API Gateway REQUEST authorizer events (methodArn, headers)")
    key = presented_key(event.get("headers"))
    if key is None:
        raise PermissionError("Unauthorized")  # API Gateway answers 401 for an authorizer that raises "Unauthorized"
    statement = {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": event["methodArn"]}
    return {
        "principalId": "api-key",
        "policyDocument": {"Version": "2012-10-17", "Statement": [statement]},
        "usageIdentifierKey": key,
    }
