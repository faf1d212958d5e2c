"""The WebSocket API as a client sees it: a real `websockets` client against the local WebSocket API (the real
ws handler behind it, moto, the provider emulator).

The gateway streams a chat as chunks as the provider streams them, then `done` (or `error`: a provider failing or
going silent mid-stream). The chunks joined are the answer, frames come in order and carry their request's id."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import boto3
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from dev.aws_stack import StackResources
from dev.ws_server import LocalWebSocketApi
from tests.conftest import Gateway
from tests.ws.conftest import Conversation, connection_item, text_of

CHAT = {"action": "chat", "prompt": "Explain what a Python generator is in two sentences.", "language": "en"}


@asynccontextmanager
async def conversation(api: LocalWebSocketApi, key: str | None) -> AsyncIterator[Conversation]:
    headers = {"x-api-key": key} if key else None
    async with connect(api.url, additional_headers=headers, open_timeout=30) as connection:
        yield Conversation(connection)


def talk(api: LocalWebSocketApi, key: str | None, script: Callable[[Conversation], Any]) -> Any:
    async def run() -> Any:
        async with conversation(api, key) as talk:
            return await script(talk)

    return asyncio.run(run())


def _assert_streamed_answer(frames: list[dict[str, Any]], frame_id: str) -> dict[str, Any]:
    """chunk+ then done, all of this request; the done frame."""
    kinds = [f["type"] for f in frames]
    assert kinds[-1] == "done", frames
    assert kinds[:-1], kinds
    assert set(kinds[:-1]) == {"chunk"}, kinds
    assert {f["id"] for f in frames} == {frame_id}
    return frames[-1]


def _recorded_answers(aws: StackResources) -> list[str]:
    return [str(i["answer"]) for i in boto3.resource("dynamodb").Table(aws.names["InteractionsTable"]).scan()["Items"]]


def test_a_chat_streams_and_finishes(ws_api: LocalWebSocketApi, aws: StackResources) -> None:
    async def script(talk: Conversation) -> list[dict[str, Any]]:
        await talk.send({**CHAT, "id": "c1"})
        return await talk.until_final("c1")

    # When a client asks over the socket
    frames = talk(ws_api, aws.api_keys["GatewayApiApiKey"], script)
    # Then chunks arrive, then done with how the answer was produced
    done = _assert_streamed_answer(frames, "c1")
    assert (done["provider"], done["fallback_used"]) == ("slm", False)
    assert done["usage"]["output_tokens"] > 0
    # And the chunks joined are the whole answer, the one the gateway recorded
    assert _recorded_answers(aws) == [text_of(frames)]
    assert "Python generator" in text_of(frames)


def test_a_fallback_before_the_first_chunk_shows_only_in_done(
    ws_api: LocalWebSocketApi, aws: StackResources, gateway: Gateway
) -> None:
    # Given the small model answering 503
    gateway.emulator.fail("slm", "status", status=503)

    async def script(talk: Conversation) -> list[dict[str, Any]]:
        await talk.send({**CHAT, "id": "f1"})
        return await talk.until_final("f1")

    frames = talk(ws_api, aws.api_keys["GatewayApiApiKey"], script)
    # Then the answer streams from Gemini, and only done says a fallback happened
    done = _assert_streamed_answer(frames, "f1")
    assert done["fallback_used"] is True
    assert [(a["provider"], a["outcome"]) for a in done["attempts"]] == [("slm", "server_error"), ("gemini", "ok")]
    assert text_of(frames)
    assert "emulated slm" not in text_of(frames)


def test_every_provider_failing_ends_the_request_with_an_error_and_the_socket_stays_open(
    ws_api: LocalWebSocketApi, aws: StackResources, gateway: Gateway
) -> None:
    gateway.emulator.fail("*", "status", status=503)

    async def script(talk: Conversation) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        await talk.send({**CHAT, "id": "x1"})
        failed = await talk.until_final("x1")
        await talk.send({"action": "ping", "id": "after"})
        return failed, await talk.until_final("after")

    failed, pong = talk(ws_api, aws.api_keys["GatewayApiApiKey"], script)
    # Then the request's only frame is an error with every attempt, and the connection still answers
    assert [f["type"] for f in failed] == ["error"]
    assert failed[0]["error"]["code"] == "all_providers_failed"
    assert pong == [{"type": "pong", "id": "after"}]


def test_two_requests_on_one_connection_run_at_once_each_tagged_by_its_id(
    ws_api: LocalWebSocketApi, aws: StackResources, gateway: Gateway
) -> None:
    # Given the point generator's model slow to answer (a shape the local parser does not know goes to it)
    gateway.emulator.fail("huggingface", "delay", delay_s=3.0, times=1)
    gateway.emulator.fail("huggingface", "status", status=503)  # after its delay, it fails: Gemini draws

    async def script(talk: Conversation) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
        await talk.send({"action": "generate_points", "id": "slow", "prompt": "a heart shape made of 20 points"})
        await talk.send({**CHAT, "id": "fast"})
        fast = await talk.until_final("fast")
        slow = await talk.until_final("slow")
        return fast, slow, list(talk.arrived)

    fast, slow, arrived = talk(ws_api, aws.api_keys["GatewayApiApiKey"], script)
    # Then the chat, sent second, finishes while the points are still being drawn
    order = [(f["id"], f["type"]) for f in arrived]
    assert order.index(("fast", "done")) < order.index(("slow", "done"))
    # And each request's frames carry its own id, in order
    _assert_streamed_answer(fast, "fast")
    assert [f["type"] for f in slow] == ["done"]
    assert slow[0]["count"] == len(slow[0]["points"])


def test_garbage_frames_get_error_frames_and_a_working_request_follows(
    ws_api: LocalWebSocketApi, aws: StackResources
) -> None:
    garbage: list[tuple[str, str | None, str]] = [
        ("not json at all", None, "invalid_json"),
        (json.dumps({"action": "dance", "id": "g1"}), "g1", "unknown_action"),
        (json.dumps({"action": "chat", "prompt": "no id"}), None, "validation_error"),
        (json.dumps({"action": "chat", "id": "i" * 65, "prompt": "long id"}), None, "validation_error"),
        (json.dumps({"action": "chat", "id": "g2", "prompt": "x" * 40_000}), None, "frame_too_large"),
    ]

    async def script(talk: Conversation) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        for text, _, _ in garbage:
            await talk.send(text)
        async with asyncio.timeout(30):
            while sum(f["type"] == "error" for f in talk.arrived) < len(garbage):
                talk.arrived.append(json.loads(await talk.connection.recv()))
        errors = list(talk.arrived)
        await talk.send({**CHAT, "id": "ok"})
        return errors, await talk.until_final("ok")

    errors, answer = talk(ws_api, aws.api_keys["GatewayApiApiKey"], script)
    # Then each garbage frame got an error frame naming its problem (they ran at once: any order)
    got = sorted((f["id"] or "", f["error"]["code"]) for f in errors)
    assert got == sorted((frame_id or "", code) for _, frame_id, code in garbage)
    assert all(f["error"]["message"] for f in errors)
    # And the connection stayed open for a request that works
    _assert_streamed_answer(answer, "ok")


def test_handle_error_and_generate_points_over_the_socket(ws_api: LocalWebSocketApi, aws: StackResources) -> None:
    async def script(talk: Conversation) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        error = {"message": "TypeError: 'NoneType' object is not subscriptable", "language": "python"}
        await talk.send({"action": "handle_error", "id": "e", "error": error})
        await talk.send({"action": "generate_points", "id": "p", "prompt": "8 points on a circle of radius 5"})
        return await talk.until_final("e"), await talk.until_final("p")

    analysis, points = talk(ws_api, aws.api_keys["InternalApiKey"], script)
    # Then each is one done frame with the HTTP endpoint's whole answer
    ((analysis_done,), (points_done,)) = analysis, points
    assert analysis_done["type"] == "done"
    assert analysis_done["summary"]
    assert analysis_done["fix_steps"]
    assert analysis_done["parsed"]["exception_type"] == "TypeError"
    assert points_done["type"] == "done"
    assert points_done["count"] == 8
    assert all(abs((x**2 + y**2) ** 0.5 - 5) < 1e-6 for x, y in points_done["points"])


@pytest.mark.parametrize(("key", "status"), [("wrong-key-0000000000000", 403), (None, 401)])
def test_a_bad_or_missing_api_key_is_refused(ws_api: LocalWebSocketApi, key: str | None, status: int) -> None:
    async def attempt() -> None:
        async with conversation(ws_api, key):
            pass

    # When a client connects with a wrong key, or without one
    with pytest.raises(InvalidStatus) as refused:
        asyncio.run(attempt())
    # Then the handshake is refused with the handler's status and error body
    assert refused.value.response.status_code == status
    assert json.loads(refused.value.response.body)["error"]["code"] in ("invalid_api_key", "missing_api_key")
    assert ws_api.connection_ids() == []


def test_a_disconnect_mid_answer_stops_the_request_and_is_cleaned_up(
    ws_api: LocalWebSocketApi, aws: StackResources, gateway: Gateway
) -> None:
    # Given a slow small model
    gateway.emulator.fail("slm", "delay", delay_s=1.5)
    connection_ids: list[str] = []

    async def script(talk: Conversation) -> None:
        await talk.send({**CHAT, "id": "left"})
        async with asyncio.timeout(10):
            while not ws_api.connection_ids():  # the server registers the connection after the handshake
                await asyncio.sleep(0.01)
        connection_ids.extend(ws_api.connection_ids())
        await asyncio.sleep(0.3)  # the request is with the provider

    # When the client leaves while its answer is being produced
    talk(ws_api, aws.api_keys["GatewayApiApiKey"], script)
    (connection_id,) = connection_ids
    deadline = time.monotonic() + 30
    while not ws_api.gone_posts and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # room for any further (wrong) post
    # Then the handler was told the client had gone on its first frame and sent nothing more
    assert ws_api.gone_posts == [connection_id]
    # And the connection is forgotten ($disconnect, and the 410)
    assert connection_item(aws.names["ConnectionsTable"], connection_id) is None


def test_a_stream_cut_mid_answer_ends_with_an_error_never_a_done(
    ws_api: LocalWebSocketApi, aws: StackResources, gateway: Gateway
) -> None:
    # Given the small model down and Gemini dropping the connection after two chunks of its stream
    gateway.emulator.fail("slm", "status", status=503)
    gateway.emulator.fail("gemini", "cut", after_chunks=2)

    async def script(talk: Conversation) -> list[dict[str, Any]]:
        await talk.send({**CHAT, "id": "cut"})
        return await talk.until_final("cut")

    frames = talk(ws_api, aws.api_keys["GatewayApiApiKey"], script)
    # Then the chunks sent before the cut are followed by an error, never by a done on the truncated text
    assert [f["type"] for f in frames] == ["chunk", "chunk", "error"]
    assert frames[-1]["error"]["code"] == "provider_stream_failed"
    attempts = frames[-1]["error"]["details"]["attempts"]
    assert [(a["provider"], a["outcome"]) for a in attempts] == [
        ("slm", "server_error"),
        ("gemini", "connection_error"),
    ]
    # And nothing was recorded as an answer
    assert _recorded_answers(aws) == []


def test_a_provider_silent_mid_answer_past_its_timeout_ends_with_an_error(
    ws_api: LocalWebSocketApi, aws: StackResources, gateway: Gateway, clean_env: pytest.MonkeyPatch
) -> None:
    # Given Gemini going silent after one chunk, for longer than a provider may be silent (1.5 s here)
    clean_env.setenv("PROVIDER_TIMEOUT_MS", "1500")
    gateway.emulator.fail("slm", "status", status=503)
    gateway.emulator.fail("gemini", "stall", after_chunks=1, delay_s=20)

    async def script(talk: Conversation) -> list[dict[str, Any]]:
        await talk.send({**CHAT, "id": "stall"})
        return await talk.until_final("stall", timeout_s=15)

    started = time.monotonic()
    frames = talk(ws_api, aws.api_keys["GatewayApiApiKey"], script)
    # Then the chunk sent before the silence is followed by an error naming the timeout, long before the stall ends
    assert [f["type"] for f in frames] == ["chunk", "error"]
    assert frames[-1]["error"]["code"] == "provider_stream_failed"
    assert frames[-1]["error"]["details"]["attempts"][-1]["outcome"] == "timeout"
    assert time.monotonic() - started < 15


def test_a_long_answer_arrives_in_several_chunks_as_the_provider_streams_it(
    ws_api: LocalWebSocketApi, aws: StackResources, gateway: Gateway
) -> None:
    # Given Gemini answering (the small model down), through its streaming endpoint
    gateway.emulator.fail("slm", "status", status=503)

    async def script(talk: Conversation) -> list[dict[str, Any]]:
        await talk.send({**CHAT, "id": "long", "prompt": "Write three paragraphs on Python generators."})
        return await talk.until_final("long")

    frames = talk(ws_api, aws.api_keys["GatewayApiApiKey"], script)
    # Then more than one chunk carries the answer
    done = _assert_streamed_answer(frames, "long")
    assert sum(f["type"] == "chunk" for f in frames) > 1
    assert done["provider"] == "gemini"


def test_the_connection_closes_on_a_message_over_api_gateways_128_kib(
    ws_api: LocalWebSocketApi, aws: StackResources
) -> None:
    async def script(talk: Conversation) -> int | None:
        await talk.send("x" * (128 * 1024 + 1))
        try:
            await asyncio.wait_for(talk.connection.recv(), 10)
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None
        return None

    # Then, as API Gateway does, the connection is closed with 1009 (message too big)
    assert talk(ws_api, aws.api_keys["GatewayApiApiKey"], script) == 1009
