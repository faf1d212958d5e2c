"""Calls to the admin routes as API Gateway passes them on once IAM has checked the signature, and to the public
routes as it passes them on once it has checked an API key."""

from __future__ import annotations

import json
from typing import Any

from dev.lambda_runtime import api_event
from tests.conftest import Answer, Gateway

ADMIN_ARN = "arn:aws:iam::123456789012:user/ops-alice"
ROUTE = {"user_id": "u-1", "language": "en", "max_output_tokens": 64}


def admin(
    gateway: Gateway, method: str, path: str, body: Any = None, if_match: str | None = None, who: str = ADMIN_ARN
) -> Answer:
    """An IAM-signed admin request to the status function."""
    headers = {"If-Match": if_match} if if_match is not None else {}
    raw = gateway.invoke("status", api_event(method, path, body, headers=headers, identity={"userArn": who}))
    answer_headers = {k.lower(): v for k, v in (raw.get("headers") or {}).items()}
    return Answer(raw["statusCode"], answer_headers, json.loads(raw["body"]) if raw.get("body") else None, raw)


def keyed(gateway: Gateway, function: str, method: str, path: str, body: Any, key_id: str | None) -> Answer:
    """A request API Gateway accepted with the API key `key_id` (None: no key, as a direct invoke)."""
    identity = {"apiKeyId": key_id} if key_id else None
    headers = {"Cache-Control": "no-cache"}
    return gateway.call(function, api_event(method, path, body, headers=headers, identity=identity))


def route(gateway: Gateway, prompt: str, key_id: str | None = None, **fields: Any) -> Answer:
    return keyed(gateway, "route", "POST", "/v1/route", {**ROUTE, "prompt": prompt, **fields}, key_id)
