"""Fixtures for the WebSocket API: the frames the handler sent (moto's management API keeps them), the local
WebSocket API in-process, and a client that collects frames by request id."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import boto3
import pytest
from websockets.asyncio.client import ClientConnection

from dev.ws_server import LocalWebSocketApi
from tests.conftest import Gateway

FRAMES = json.JSONDecoder()


def frames_sent(connection_id: str) -> list[dict[str, Any]]:
    """The frames the handler posted to a connection, as moto's management API stored them (one byte string)."""
    from moto.apigatewaymanagementapi.models import apigatewaymanagementapi_backends

    backend = apigatewaymanagementapi_backends["123456789012"]["us-east-1"]
    stored = quote(connection_id, safe="")  # moto keeps the id as it is in the request's path
    data = backend.connections[stored].data.decode() if stored in backend.connections else ""
    frames, at = [], 0
    while at < len(data):
        frame, at = FRAMES.raw_decode(data, at)
        frames.append(frame)
    return frames


def connection_item(table: str, connection_id: str) -> dict[str, Any] | None:
    item: dict[str, Any] | None = (
        boto3.resource("dynamodb").Table(table).get_item(Key={"connection_id": connection_id}).get("Item")
    )
    return item


@pytest.fixture
def ws_api(gateway: Gateway, clean_env: pytest.MonkeyPatch) -> Iterator[LocalWebSocketApi]:
    """The local WebSocket API on free ports, calling the real ws handler against moto and the emulator."""
    api = LocalWebSocketApi("127.0.0.1", 0)
    clean_env.setenv("WS_MANAGEMENT_URL", api.management_url)
    with api:
        yield api


@dataclass
class Conversation:
    """Frames received on one connection, grouped by request id in arrival order."""

    connection: ClientConnection
    arrived: list[dict[str, Any]] = field(default_factory=list)

    async def send(self, frame: dict[str, Any] | str) -> None:
        await self.connection.send(frame if isinstance(frame, str) else json.dumps(frame))

    async def until_final(self, frame_id: str | None, timeout_s: float = 30) -> list[dict[str, Any]]:
        """The frames of one request up to its `done` or `error` (or a pong, for a ping)."""
        async with asyncio.timeout(timeout_s):
            while not any(self._is_final(f, frame_id) for f in self.arrived):
                self.arrived.append(json.loads(await self.connection.recv()))
        frames = [f for f in self.arrived if f.get("id") == frame_id]
        return frames[: next(i for i, f in enumerate(frames) if self._is_final(f, frame_id)) + 1]

    @staticmethod
    def _is_final(frame: dict[str, Any], frame_id: str | None) -> bool:
        return frame.get("id") == frame_id and frame["type"] in ("done", "error", "pong")


def text_of(frames: list[dict[str, Any]]) -> str:
    """The answer's text: every chunk, in order."""
    return "".join(f["text"] for f in frames if f["type"] == "chunk")
