"""The chat function under a real ASGI server (uvicorn), as the AWS Lambda Web Adapter runs it in AWS (dev and tests
only): its app (`functions/chat/app.py`'s `asgi`) served on a port of its own, answers streamed as they come.

`make run` puts it behind the local API's port (`dev.local_api.LocalApi.upstreams`), so the OpenAI base URL is the
same as every other endpoint's: `http://127.0.0.1:3000/v1`.
"""

from __future__ import annotations

import threading
import time
from types import TracebackType
from typing import Any, Self

import uvicorn

from dev.lambda_runtime import load_handler

FUNCTION = "chat"


def chat_app() -> Any:
    """The chat function's ASGI app, imported as Lambda imports it (the layer on sys.path)."""
    import sys

    load_handler(FUNCTION)
    return sys.modules[f"lambda_functions.{FUNCTION}.app"].asgi


class ChatServer:
    """uvicorn serving the chat function on host:port (0: a free port), on a thread of its own."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        config = uvicorn.Config(
            chat_app(), host=host, port=port, log_level="warning", access_log=False, lifespan="off",
            timeout_graceful_shutdown=1,
        )  # fmt: skip
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="chat-uvicorn", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.servers[0].sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    def start(self) -> Self:
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the chat function's server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
