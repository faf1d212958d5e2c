"""The local API: an HTTP server that turns each request into an API Gateway proxy event.

Routes come from `template.yaml` (every `Api` event of every function), so the local API cannot
drift from the deployed one. Each function runs on its own worker thread, one request at a time,
like a single Lambda instance; its handler is the real one, imported with the layer on sys.path.
With a `KeyCheck` (as `make run` gives it), API keys are what API Gateway makes of them: a method that requires
one looks the `x-api-key` header (or a bearer token) up among the stack's keys and passes its id to the function
as `requestContext.identity.apiKeyId`; an unknown key is `403`; a request without one is served as the default key's,
or refused when there is none. The admin methods (`AWS_IAM` in the template) are open to loopback callers only,
named `LOCAL_ADMIN` in `identity.userArn`. Without a KeyCheck, keys are not looked at. What the local API answers itself
(an unrouted path or method, its `/__local/` controls) carries the `X-Request-Id` and security headers every
function's answer carries.
"""

from __future__ import annotations

import base64
import http.client
import json
import re
import threading
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

from dev.aws_stack import load_template, resources_of_type
from dev.lambda_runtime import LocalLambdaContext, api_event, load_handler, use_layer

use_layer()

from gateway.http.envelope import REQUEST_ID_PATTERN, SECURITY_HEADERS  # noqa: E402 - the layer goes on sys.path first
from gateway.http.identity import ADAPTER_CONTEXT_HEADER  # noqa: E402

CONTROL_PREFIX = "/__local/"
LOCAL_ADMIN = "arn:aws:iam::123456789012:user/local-loopback-admin"  # the admin principal of loopback callers
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
Auth = Literal["key", "iam", "none"]
# A control route's answer to (method, path below CONTROL_PREFIX): a status and a JSON body.
Control = Callable[[str, str], tuple[int, Any]]


@dataclass(frozen=True)
class ApiRoute:
    method: str
    path: str  # as in the template, e.g. /v1/jobs/{job_id}
    function: str  # the directory under functions/
    timeout_s: float
    auth: Auth = "key"  # an API key (the API's default), an IAM signature (AWS_IAM), or nothing

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if method != self.method:
            return None
        pattern = re.sub(r"\\\{(\w+)\\\+\\\}", r"(?P<\1>.+)", re.escape(self.path))  # {name+}: greedy, as API Gateway's
        pattern = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", pattern) + "$"
        found = re.match(pattern, path)
        return found.groupdict() if found else None


@dataclass(frozen=True)
class KeyCheck:
    """API keys as API Gateway treats them: `key_id(value)` is an accepted key's id (None: refused, 403), and a
    request that presents none is served as `default_key_id`'s (None: refused)."""

    key_id: Callable[[str], str | None]
    default_key_id: str | None


def routes_from_template() -> list[ApiRoute]:
    """Every API event of every function in template.yaml, with the authorisation API Gateway applies to it."""
    template = load_template()
    default_timeout = float(template.get("Globals", {}).get("Function", {}).get("Timeout", 30))
    apis = resources_of_type(template, "AWS::Serverless::Api")
    keyed = {lid: bool(api["Properties"].get("Auth", {}).get("ApiKeyRequired")) for lid, api in apis.items()}
    routes = []
    for props in (f["Properties"] for f in resources_of_type(template, "AWS::Serverless::Function").values()):
        function = str(props["CodeUri"]).rstrip("/").split("/")[-1]
        for event in props.get("Events", {}).values():
            if event.get("Type") == "Api":
                event_props = event["Properties"]
                auth = event_props.get("Auth", {})
                api = event_props.get("RestApiId", {}).get("Ref", "")
                requires_key = bool(auth.get("ApiKeyRequired", keyed.get(api, False)))
                kind: Auth = "iam" if auth.get("Authorizer") == "AWS_IAM" else "key" if requires_key else "none"
                routes.append(
                    ApiRoute(
                        method=str(event_props["Method"]).upper(),
                        path=str(event_props["Path"]),
                        function=function,
                        timeout_s=float(props.get("Timeout", default_timeout)),
                        auth=kind,
                    )
                )
    return routes


class LocalApi:
    """Serve the gateway's API on host:port by calling the real handlers in-process."""

    def __init__(self, host: str = "127.0.0.1", port: int = 3000, keys: KeyCheck | None = None) -> None:
        self.routes = routes_from_template()
        self.keys = keys
        functions = {route.function for route in self.routes}
        # One worker per function: a Lambda instance answers one request at a time.
        self._workers = {name: ThreadPoolExecutor(1, thread_name_prefix=f"lambda-{name}") for name in functions}
        self._server = ThreadingHTTPServer((host, port), _handler_class(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None
        self.pages: dict[str, Callable[[], dict[str, Any]]] = {}  # dev-only GET pages (the playground), by path
        # Functions served by an ASGI server of their own (the chat function under uvicorn, as the web adapter runs
        # it), by name: their requests are passed on to it and their answers streamed back as they come.
        self.upstreams: dict[str, str] = {}
        self._controls: dict[str, Control] = {}

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> LocalApi:
        for name in self._workers:  # import every handler up front, as a deployment would
            self._workers[name].submit(load_handler, name).result()
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-api", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        for worker in self._workers.values():
            worker.shutdown(wait=False, cancel_futures=True)

    def add_control(self, name: str, control: Control) -> None:
        """Serve `control` under /__local/<name>: a dev-only route of the local stack (none exists in AWS)."""
        self._controls[name] = control

    def invoke(self, function: str, event: dict[str, Any], timeout_s: float = 30.0) -> dict[str, Any]:
        """Hand a non-HTTP event to a function on its worker (after the requests it is answering)."""
        context = LocalLambdaContext(function_name=function, timeout_s=timeout_s)
        return self._workers[function].submit(_call, function, event, context).result()

    def upstream_for(self, method: str, raw_path: str) -> str | None:
        """The ASGI server that serves this request's function, when it has one."""
        path = urlsplit(raw_path).path
        route = next((r for r in self.routes if r.match(method, path) is not None), None)
        return self.upstreams.get(route.function) if route is not None else None

    def admit_upstream(
        self, method: str, raw_path: str, headers: dict[str, str], client_host: str
    ) -> tuple[dict[str, Any] | None, dict[str, str]]:
        """API Gateway's checks for a request that a function's ASGI server answers: the refusal, or the headers to
        pass on, with the request context stamped as the Lambda Web Adapter stamps it (any the client sent dropped)."""
        path = urlsplit(raw_path).path
        route = next(r for r in self.routes if r.match(method, path) is not None)
        identity: dict[str, Any] = {"sourceIp": client_host}
        refused = self._authorise(route, headers, client_host, identity)
        if refused is not None:
            return refused, headers
        passed = {name: value for name, value in headers.items() if name.lower() != ADAPTER_CONTEXT_HEADER}
        passed[ADAPTER_CONTEXT_HEADER] = json.dumps({"requestId": str(uuid.uuid4()), "identity": identity})
        return None, passed

    def dispatch(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes, client_host: str = "127.0.0.1"
    ) -> dict[str, Any]:
        """Turn one HTTP request into a proxy event for the matching function and return its answer."""
        parts = urlsplit(raw_path)
        if method == "GET" and parts.path in self.pages:
            return self.pages[parts.path]()
        if parts.path.startswith(CONTROL_PREFIX):
            name, _, rest = parts.path.removeprefix(CONTROL_PREFIX).partition("/")
            control = self._controls.get(name)
            if control is not None:
                status, answer = control(method, rest)
                return own_answer(status, answer, headers)
        for route in self.routes:
            params = route.match(method, parts.path)
            if params is None:
                continue
            query = dict(parse_qsl(parts.query)) or None
            event = api_event(
                method, parts.path, _text_or_bytes(body) if body else None,
                headers=headers, query=query, resource=route.path,
            )  # fmt: skip
            event["pathParameters"] = params or None
            refused = self._authorise(route, headers, client_host, event["requestContext"]["identity"])
            if refused is not None:
                return refused
            context = LocalLambdaContext(function_name=route.function, timeout_s=route.timeout_s)
            return self._workers[route.function].submit(_call, route.function, event, context).result()
        allowed = sorted({route.method for route in self.routes if route.match(route.method, parts.path) is not None})
        status, code = (405, "method_not_allowed") if allowed else (404, "not_found")
        error = {"code": code, "message": f"no route for {method} {parts.path}"}
        return own_answer(status, {"error": error}, headers, {"Allow": ", ".join(allowed)} if allowed else {})

    def _authorise(
        self, route: ApiRoute, headers: Mapping[str, str], client_host: str, identity: dict[str, Any]
    ) -> dict[str, Any] | None:
        """What API Gateway checks before a function runs: the API key, or the admin's signature (loopback only);
        the caller goes into the event's identity. An answer when the request is refused, else None."""
        if route.auth == "iam":
            if client_host not in LOOPBACK:
                message = "admin routes are open on loopback only locally (IAM-signed in AWS)"
                return own_answer(403, {"error": {"code": "MISSING_AUTHENTICATION_TOKEN", "message": message}}, headers)
            identity["userArn"] = identity["caller"] = LOCAL_ADMIN
            return None
        if route.auth == "none" or self.keys is None:
            return None
        presented = presented_api_key(headers)
        key_id = self.keys.key_id(presented) if presented else self.keys.default_key_id
        if key_id is None:
            return own_answer(403, {"error": {"code": "INVALID_API_KEY", "message": "Forbidden"}}, headers)
        identity["apiKeyId"] = key_id
        identity["apiKey"] = presented  # API Gateway passes the key it checked (the gateway never reads it)
        return None


def presented_api_key(headers: Mapping[str, str]) -> str | None:
    """The API key a request presents: its `x-api-key` header, else a bearer token (as OpenAI's clients send it)."""
    lowered = {name.lower(): value for name, value in headers.items()}
    if lowered.get("x-api-key", "").strip():
        return lowered["x-api-key"].strip()
    scheme, _, token = lowered.get("authorization", "").strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def own_answer(
    status: int, body: Any, request_headers: Mapping[str, str], extra: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """An answer of the local API's own, with the request id (the client's, when valid) and the security headers;
    an error body gets the id as its `request_id`, as every function's errors do."""
    given = next((v for k, v in request_headers.items() if k.lower() == "x-request-id"), "")
    request_id = given if REQUEST_ID_PATTERN.match(given) else str(uuid.uuid4())
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        body = {"error": {**body["error"], "request_id": request_id}}
    headers = {"Content-Type": "application/json", "X-Request-Id": request_id, **SECURITY_HEADERS, **(extra or {})}
    return {"statusCode": status, "headers": headers, "body": json.dumps(body)}


def _text_or_bytes(body: bytes) -> str | bytes:
    """The body as text, or as its bytes (base64 in the event, as API Gateway passes a binary body) when it is not
    UTF-8: the function sees what the client sent, never a repaired copy."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body


def _call(function: str, event: dict[str, Any], context: LocalLambdaContext) -> dict[str, Any]:
    return load_handler(function)(event, context)


def _handler_class(api: LocalApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = dict(self.headers.items())
            client_host = str(self.client_address[0])
            upstream = api.upstream_for(self.command, self.path)
            refused: dict[str, Any] | None = None
            if upstream is not None:
                refused, passed = api.admit_upstream(self.command, self.path, headers, client_host)
                if refused is None:
                    self._pass_on(upstream, body, passed)
                    return
            try:
                answer = refused or api.dispatch(self.command, self.path, headers, body, client_host)
            except Exception as exc:  # a handler crash is a 502 from API Gateway too
                error = {"error": {"code": "internal_error", "message": type(exc).__name__, "request_id": ""}}
                answer = {"statusCode": 502, "headers": {}, "body": json.dumps(error)}
            payload = answer.get("body") or ""
            data = base64.b64decode(payload) if answer.get("isBase64Encoded") else str(payload).encode()
            self.send_response(int(answer.get("statusCode", 502)))
            sent = set()
            for name, values in (answer.get("multiValueHeaders") or {}).items():
                for value in values:
                    self.send_header(name, str(value))
                sent.add(name.lower())
            for name, value in (answer.get("headers") or {}).items():
                if name.lower() not in sent and name.lower() != "content-length":
                    self.send_header(name, str(value))
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def _pass_on(self, upstream: str, body: bytes, headers: dict[str, str]) -> None:
            """The request to the function's ASGI server, its answer back piece by piece (chunked) as it comes."""
            target = urlsplit(upstream)
            connection = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port, timeout=900)
            try:
                sent = {k: v for k, v in headers.items() if k.lower() not in ("host", "connection", "content-length")}
                connection.request(self.command, self.path, body=body or None, headers=sent)
                answer = connection.getresponse()
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in ("transfer-encoding", "connection", "content-length", "date", "server"):
                        self.send_header(name, value)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                while piece := answer.read1(65536):
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")
            except OSError:  # the client or the server went away: the other side's connection is closed
                self.close_connection = True
            finally:
                connection.close()

        do_GET = do_POST = _serve

        def __getattr__(self, name: str) -> Any:
            # Every method (PUT, TRACE, QUERY...) reaches dispatch, so one the template does not route is a
            # 405 in the error shape; http.server would answer an HTML 501.
            if name.startswith("do_"):
                return self._serve
            raise AttributeError(name)

    return Handler
