"""Run the real Lambda handlers in-process, the way the Lambda runtime does (dev and tests only).

`load_handler` imports a function's `app.py` with the layer on `sys.path`, as Lambda lays them out;
`api_event` builds an API Gateway REST proxy event, `ws_event` a WebSocket API's; `LocalLambdaContext` stands in
for the runtime's context object with the attributes Powertools reads.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = REPO_ROOT / "functions"
LAYER_DIR = REPO_ROOT / "layers" / "providers"
FUNCTIONS = (
    "route",
    "generate_points",
    "status",
    "handle_error",
    "training_consumer",
    "ws",
    "chat",
    "api_key_authorizer",
)

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


def use_layer() -> None:
    """Put the layer's code on sys.path, as Lambda does with /opt/python."""
    if str(LAYER_DIR) not in sys.path:
        sys.path.insert(0, str(LAYER_DIR))


@dataclass
class LocalLambdaContext:
    """The Lambda context object: the attributes and method that handlers and Powertools use."""

    function_name: str = "local-function"
    memory_limit_in_mb: int = 512
    timeout_s: float = 30.0
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_s - (time.monotonic() - self.started)) * 1000))


def load_handler(function: str) -> LambdaHandler:
    """Import `functions/<function>/app.py` under a unique module name and return its `handler`."""
    if function not in FUNCTIONS:
        raise ValueError(f"unknown function {function!r}; one of {', '.join(FUNCTIONS)}")
    use_layer()
    module_name = f"lambda_functions.{function}.app"
    module = sys.modules.get(module_name)
    if module is None:
        spec = importlib.util.spec_from_file_location(module_name, FUNCTIONS_DIR / function / "app.py")
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {function}'s app.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    handler: LambdaHandler = module.handler
    return handler


def api_event(
    method: str,
    path: str,
    body: Any = None,
    *,
    headers: Mapping[str, str] | None = None,
    query: Mapping[str, str] | None = None,
    resource: str | None = None,
    source_ip: str = "127.0.0.1",
    identity: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """An API Gateway REST (v1) proxy event, as API Gateway sends it to a Lambda proxy integration.

    `identity`: what API Gateway found out about the caller (`apiKeyId` for a keyed method, `userArn` for an
    IAM-signed one), added to `requestContext.identity`."""
    raw = body if isinstance(body, str | bytes) or body is None else json.dumps(body)
    is_base64 = isinstance(raw, bytes)
    text = base64.b64encode(raw).decode() if isinstance(raw, bytes) else raw
    all_headers = {"Content-Type": "application/json", "Host": "localhost", **(headers or {})}
    request_id = str(uuid.uuid4())
    return {
        "resource": resource or path,
        "path": path,
        "httpMethod": method.upper(),
        "headers": all_headers,
        "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
        "queryStringParameters": dict(query) if query else None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource or path,
            "httpMethod": method.upper(),
            "path": f"/api{path}",
            "stage": "api",
            "requestId": request_id,
            "extendedRequestId": request_id,
            "accountId": "123456789012",
            "apiId": "local",
            "protocol": "HTTP/1.1",
            "requestTimeEpoch": int(time.time() * 1000),
            "identity": {
                "sourceIp": source_ip,
                "userAgent": all_headers.get("User-Agent", "local"),
                "apiKey": None,
                **(identity or {}),
            },
        },
        "body": text,
        "isBase64Encoded": is_base64,
    }


def ws_event(
    event_type: str,
    connection_id: str,
    *,
    body: str | bytes | None = None,
    route_key: str | None = None,
    headers: Mapping[str, str] | None = None,
    query: Mapping[str, str] | None = None,
    domain_name: str = "localhost",
    stage: str = "local",
    connected_at_ms: int | None = None,
    source_ip: str = "127.0.0.1",
    disconnect: tuple[int, str] = (1000, "Client-side close frame status code"),
) -> dict[str, Any]:
    """An API Gateway WebSocket proxy event (CONNECT, MESSAGE or DISCONNECT), as API Gateway sends it to Lambda.

    CONNECT carries the handshake's headers and query string; MESSAGE the frame (base64 when it is binary);
    DISCONNECT the close code and reason.
    """
    now_ms = int(time.time() * 1000)
    request_id = base64.b64encode(uuid.uuid4().bytes[:6]).decode()
    context: dict[str, Any] = {
        "routeKey": route_key or {"CONNECT": "$connect", "DISCONNECT": "$disconnect"}.get(event_type, "$default"),
        "eventType": event_type,
        "extendedRequestId": request_id,
        "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now_ms / 1000)),
        "messageDirection": "IN",
        "stage": stage,
        "connectedAt": connected_at_ms if connected_at_ms is not None else now_ms,
        "requestTimeEpoch": now_ms,
        "identity": {"sourceIp": source_ip},
        "requestId": request_id,
        "domainName": domain_name,
        "connectionId": connection_id,
        "apiId": "local",
    }
    event: dict[str, Any] = {"requestContext": context, "isBase64Encoded": False}
    if event_type == "MESSAGE":
        context["messageId"] = base64.b64encode(uuid.uuid4().bytes[:6]).decode()
        is_binary = isinstance(body, bytes)
        event["body"] = base64.b64encode(body).decode() if isinstance(body, bytes) else body
        event["isBase64Encoded"] = is_binary
        return event
    if event_type == "DISCONNECT":
        context["disconnectStatusCode"], context["disconnectReason"] = disconnect
    all_headers = {"Host": domain_name, **(headers or {})}
    if event_type == "CONNECT":
        event["queryStringParameters"] = dict(query) if query else None
        event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} if query else None
    event["headers"] = all_headers
    event["multiValueHeaders"] = {k: [v] for k, v in all_headers.items()}
    return event


def invoke(function: str, event: dict[str, Any], context: LocalLambdaContext | None = None) -> dict[str, Any]:
    """Call a function's real handler with an event, as the Lambda runtime does."""
    handler = load_handler(function)
    return handler(event, context or LocalLambdaContext(function_name=function))
