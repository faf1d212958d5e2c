"""The local WebSocket API: plays API Gateway's WebSocket API for the real ws handler (dev and tests only).

A `websockets` server turns each connection, frame and disconnection into the API Gateway WebSocket event the
handler receives in AWS (`$connect` with the handshake's headers and query string, `$default` with the frame, or the
route the template declares for the frame's `action`, `$disconnect` with the close code), and calls the real
handler: each frame on its own worker thread, as each message is its own invocation in AWS, so requests on one
connection run at once. A `$connect` answered with a non-2xx status refuses the handshake with that status.

Beside it, on its own port, the management API (`POST`/`GET`/`DELETE /{stage}/@connections/{id}`, a Starlette app
under uvicorn in the same event loop) puts what the handler's boto3 `apigatewaymanagementapi` calls send back onto
the socket; a connection that has gone is 410 `GoneException`, as in AWS. Point the handler at it with
`WS_MANAGEMENT_URL` (`management_url`). Limits as API Gateway's: a message of at most 128 KiB each way.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import secrets
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request as HttpRequest
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request as HandshakeRequest
from websockets.http11 import Response as HandshakeResponse

from dev.aws_stack import load_template, resources_of_type
from dev.lambda_runtime import LocalLambdaContext, load_handler, ws_event

MAX_MESSAGE_BYTES = 128 * 1024  # API Gateway's limit for a message, each way
FUNCTION = "ws"


@dataclass(frozen=True)
class WebSocketApiSpec:
    """What the template says about the WebSocket API: its stage, its routes, its function's timeout."""

    stage: str
    route_keys: frozenset[str]
    timeout_s: float


def spec_from_template() -> WebSocketApiSpec:
    template = load_template()
    (stage,) = resources_of_type(template, "AWS::ApiGatewayV2::Stage").values()
    routes = {
        str(r["Properties"]["RouteKey"]) for r in resources_of_type(template, "AWS::ApiGatewayV2::Route").values()
    }
    default_timeout = float(template.get("Globals", {}).get("Function", {}).get("Timeout", 30))
    functions = resources_of_type(template, "AWS::Serverless::Function").values()
    (ws,) = (f["Properties"] for f in functions if str(f["Properties"]["CodeUri"]).rstrip("/").endswith(FUNCTION))
    return WebSocketApiSpec(
        str(stage["Properties"]["StageName"]), frozenset(routes), ws.get("Timeout", default_timeout)
    )


@dataclass
class _Client:
    connection: ServerConnection
    connected_at: datetime
    source_ip: str
    user_agent: str
    last_active_at: datetime = field(default_factory=lambda: datetime.now(UTC))


class LocalWebSocketApi:
    """Serve the WebSocket API on ws://host:port by calling the real ws handler; the management API beside it."""

    def __init__(self, host: str = "127.0.0.1", port: int = 3001, workers: int = 8) -> None:
        self.spec = spec_from_template()
        self._host = host
        self._sockets = [_bound(host, port), _bound(host, 0)]  # the WebSocket API, the management API
        self._workers = ThreadPoolExecutor(workers, thread_name_prefix=f"lambda-{FUNCTION}")
        self._clients: dict[str, _Client] = {}
        self._pending: dict[int, tuple[str, int]] = {}  # id(connection) -> (connection id, connected at ms)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._failure: BaseException | None = None
        self.gone_posts: list[str] = []  # connections a POST was answered 410 for (the handler was told "gone")

    @property
    def url(self) -> str:
        return f"ws://{self._host}:{self._sockets[0].getsockname()[1]}"

    @property
    def management_url(self) -> str:
        """The management API's endpoint, as boto3's `apigatewaymanagementapi` takes it (with the stage)."""
        return f"http://{self._host}:{self._sockets[1].getsockname()[1]}/{self.spec.stage}"

    def connection_ids(self) -> list[str]:
        return list(self._clients)

    def start(self) -> LocalWebSocketApi:
        """Serve from a thread of its own; the handler is imported first, as a deployment would."""
        self._workers.submit(load_handler, FUNCTION).result()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve()), name="local-ws", daemon=True)
        self._thread.start()
        self._started.wait(30)
        if self._failure is not None:
            raise RuntimeError("the local WebSocket API did not start") from self._failure
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        if self._thread is not None:
            self._thread.join(15)
        self._workers.shutdown(wait=False, cancel_futures=True)
        for sock in self._sockets:
            sock.close()

    def __enter__(self) -> LocalWebSocketApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the event loop's side

    async def _serve(self) -> None:
        try:
            self._loop, self._stopping = asyncio.get_running_loop(), asyncio.Event()
            config = uvicorn.Config(_management_app(self), log_level="warning", lifespan="off")
            management = uvicorn.Server(config)
            management_task = asyncio.create_task(management.serve(sockets=[self._sockets[1]]))
            server: Server = await serve(
                self._on_connection, sock=self._sockets[0], process_request=self._on_handshake,
                max_size=MAX_MESSAGE_BYTES, ping_interval=None, compression=None,
            )  # fmt: skip
        except BaseException as exc:
            self._failure = exc
            self._started.set()
            raise
        self._started.set()
        await self._stopping.wait()
        server.close(close_connections=True)
        await server.wait_closed()
        management.should_exit = True
        await management_task

    async def _invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        """Call the real handler on a worker thread, as one invocation."""
        assert self._loop is not None
        context = LocalLambdaContext(function_name=FUNCTION, timeout_s=self.spec.timeout_s)
        answer: dict[str, Any] = await self._loop.run_in_executor(self._workers, load_handler(FUNCTION), event, context)
        return answer

    def _event(self, event_type: str, connection_id: str, connected_at_ms: int, **kwargs: Any) -> dict[str, Any]:
        domain = f"{self._host}:{self._sockets[0].getsockname()[1]}"
        return ws_event(event_type, connection_id, domain_name=domain, stage=self.spec.stage,
                        connected_at_ms=connected_at_ms, **kwargs)  # fmt: skip

    async def _on_handshake(self, connection: ServerConnection, request: HandshakeRequest) -> HandshakeResponse | None:
        """`$connect`: the handler's answer decides whether the handshake goes on."""
        if request.headers.get("Upgrade", "").lower() != "websocket":
            return None  # not a WebSocket handshake: websockets refuses it
        connection_id = base64.b64encode(secrets.token_bytes(10)).decode()  # like API Gateway's ids
        connected_at = int(time.time() * 1000)
        query = dict(parse_qsl(urlsplit(request.path).query)) or None
        headers = dict(request.headers.raw_items())
        source_ip = str(connection.remote_address[0]) if connection.remote_address else "127.0.0.1"
        event = self._event("CONNECT", connection_id, connected_at, headers=headers, query=query, source_ip=source_ip)
        answer = await self._invoke(event)
        status = int(answer.get("statusCode", 200))
        if not 200 <= status < 300:
            response = connection.respond(HTTPStatus(status), str(answer.get("body") or HTTPStatus(status).phrase))
            response.headers["Content-Type"] = "application/json"
            return response
        self._pending[id(connection)] = (connection_id, connected_at)
        return None

    async def _on_connection(self, connection: ServerConnection) -> None:
        """Frames to the handler (each its own invocation, at once); `$disconnect` when the socket closes."""
        connection_id, connected_at = self._pending.pop(id(connection))
        agent = connection.request.headers.get("User-Agent", "") if connection.request else ""
        address = connection.remote_address[0] if connection.remote_address else "127.0.0.1"
        client = _Client(connection, datetime.fromtimestamp(connected_at / 1000, UTC), str(address), agent)
        self._clients[connection_id] = client
        tasks: set[asyncio.Task[Any]] = set()
        try:
            async for message in connection:
                client.last_active_at = datetime.now(UTC)
                route_key = self._route_key(message)
                event = self._event("MESSAGE", connection_id, connected_at, body=message, route_key=route_key)
                task = asyncio.create_task(self._invoke(event))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
        except ConnectionClosed:
            pass
        finally:
            del self._clients[connection_id]
            code = connection.close_code if connection.close_code is not None else 1006
            reason = (code, connection.close_reason or "Client-side close frame status code")
            with contextlib.suppress(Exception):  # a failing $disconnect is the handler's to log
                await self._invoke(self._event("DISCONNECT", connection_id, connected_at, disconnect=reason))

    def _route_key(self, message: str | bytes) -> str:
        """`$request.body.action`: the route named by the frame's action when the template has one, else $default."""
        with contextlib.suppress(ValueError, TypeError, AttributeError):
            action = json.loads(message).get("action")
            if isinstance(action, str) and action in self.spec.route_keys:
                return action
        return "$default"

    # -- the management API

    async def post(self, connection_id: str, data: bytes) -> Response:
        client = self._clients.get(connection_id)
        if client is None:
            self.gone_posts.append(connection_id)
            return _gone(connection_id)
        if len(data) > MAX_MESSAGE_BYTES:
            return _error(413, "PayloadTooLargeException", f"the message is over {MAX_MESSAGE_BYTES} bytes")
        try:
            await client.connection.send(data.decode())
        except UnicodeDecodeError:
            await client.connection.send(data)
        except ConnectionClosed:
            self.gone_posts.append(connection_id)
            return _gone(connection_id)
        return Response(status_code=200)

    def describe(self, connection_id: str) -> Response:
        client = self._clients.get(connection_id)
        if client is None:
            return _gone(connection_id)
        identity = {"SourceIp": client.source_ip, "UserAgent": client.user_agent}
        return JSONResponse({"ConnectedAt": client.connected_at.isoformat(), "Identity": identity,
                             "LastActiveAt": client.last_active_at.isoformat()})  # fmt: skip

    async def delete(self, connection_id: str) -> Response:
        client = self._clients.get(connection_id)
        if client is None:
            return _gone(connection_id)
        await client.connection.close(1000, "closed by the management API")
        return Response(status_code=204)


def _management_app(api: LocalWebSocketApi) -> Starlette:
    async def connection(request: HttpRequest) -> Response:
        connection_id = str(request.path_params["connection_id"])
        if request.method == "POST":
            return await api.post(connection_id, await request.body())
        if request.method == "GET":
            return api.describe(connection_id)
        return await api.delete(connection_id)

    methods = ["POST", "GET", "DELETE"]
    paths = (f"/{api.spec.stage}/@connections/{{connection_id:path}}", "/@connections/{connection_id:path}")
    return Starlette(routes=[Route(path, connection, methods=methods) for path in paths])


def _error(status: int, error_type: str, message: str) -> Response:
    """An error as API Gateway's management API answers it: the type in a header, the message in the body."""
    return JSONResponse({"message": message}, status_code=status, headers={"x-amzn-ErrorType": error_type})


def _gone(connection_id: str) -> Response:
    return _error(410, "GoneException", f"connection {connection_id} is gone")


def _bound(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


__all__ = ["MAX_MESSAGE_BYTES", "LocalWebSocketApi", "spec_from_template"]
