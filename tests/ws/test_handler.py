"""The ws function's real handler with real API Gateway WebSocket events (`events/ws_*.json`), against moto (its
DynamoDB, its API Gateway keys and its `apigatewaymanagementapi`, which keeps what the handler posts) and the
provider emulator."""

from __future__ import annotations

import copy
import json
from typing import Any

import boto3
import pytest

from dev.aws_stack import StackResources
from dev.ws_server import LocalWebSocketApi
from tests.conftest import Gateway, load_event
from tests.ws.conftest import connection_item, frames_sent, text_of


def _connect(gateway: Gateway, headers: dict[str, str] | None = None, query: dict[str, str] | None = None) -> Any:
    event = load_event("ws_connect")
    event["headers"] = {k: v for k, v in event["headers"].items() if k != "x-api-key"} | (headers or {})
    event["multiValueHeaders"] = {k: [v] for k, v in event["headers"].items()}
    event["queryStringParameters"] = query
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} if query else None
    return gateway.invoke("ws", event)


def _message(frame: dict[str, Any] | str) -> dict[str, Any]:
    event = copy.deepcopy(load_event("ws_chat"))
    event["body"] = frame if isinstance(frame, str) else json.dumps(frame)
    return event


def _connection_id() -> str:
    return str(load_event("ws_chat")["requestContext"]["connectionId"])


def test_connect_with_the_rest_apis_key_records_the_connection(gateway: Gateway, aws: StackResources) -> None:
    # Given the standard usage plan's key in the x-api-key header (events/ws_connect.json)
    # When the $connect event reaches the handler
    answer = gateway.invoke("ws", load_event("ws_connect"))
    # Then the connection is accepted and recorded with the key's id and an expiry (the table's TTL)
    assert answer == {"statusCode": 200}
    item = connection_item(aws.names["ConnectionsTable"], _connection_id())
    assert item is not None
    assert item["api_key_id"] == aws.names["GatewayApiApiKey"]
    assert int(item["expires_at"]) > int(item["connected_at"]) // 1000


def test_a_browser_passes_the_key_as_a_query_parameter(gateway: Gateway, aws: StackResources) -> None:
    # Given the internal plan's key in the query string (browsers cannot set headers on a WebSocket)
    # When the client connects
    answer = _connect(gateway, query={"api_key": aws.api_keys["InternalApiKey"]})
    # Then it is accepted as that key
    assert answer["statusCode"] == 200
    item = connection_item(aws.names["ConnectionsTable"], _connection_id())
    assert item is not None
    assert item["api_key_id"] == aws.names["InternalApiKey"]


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({"x-api-key": "not-a-key-of-this-api"}, 403, "invalid_api_key"),
        ({}, 401, "missing_api_key"),
    ],
)
def test_a_bad_or_missing_key_refuses_the_connection(
    gateway: Gateway, aws: StackResources, headers: dict[str, str], status: int, code: str
) -> None:
    # When a client connects with a wrong key, or none
    answer = _connect(gateway, headers=headers)
    # Then the handshake is refused with the gateway's error shape, and nothing is recorded
    assert answer["statusCode"] == status
    assert json.loads(answer["body"])["error"]["code"] == code
    assert connection_item(aws.names["ConnectionsTable"], _connection_id()) is None


def test_a_key_outside_the_apis_usage_plans_or_disabled_is_refused(gateway: Gateway, aws: StackResources) -> None:
    # Given a key of the account in no plan of the REST API, and the standard key disabled
    client = boto3.client("apigateway")
    client.create_api_key(name="other-api", value="key-of-another-api-0001", enabled=True)
    client.update_api_key(
        apiKey=aws.names["GatewayApiApiKey"], patchOperations=[{"op": "replace", "path": "/enabled", "value": "false"}]
    )
    # When clients connect with them
    outsider = _connect(gateway, headers={"x-api-key": "key-of-another-api-0001"})
    disabled = _connect(gateway, headers={"x-api-key": aws.api_keys["GatewayApiApiKey"]})
    # Then both are refused, as API Gateway refuses them on the REST API
    assert (outsider["statusCode"], disabled["statusCode"]) == (403, 403)


def test_chat_sends_the_answer_as_chunks_then_done_tagged_by_id(gateway: Gateway, aws: StackResources) -> None:
    # Given a chat frame (events/ws_chat.json)
    # When the message reaches the handler
    answer = gateway.invoke("ws", load_event("ws_chat"))
    # Then the handler pushed chunks, then one done frame, every one tagged with the client's id
    assert answer == {"statusCode": 200}
    frames = frames_sent(_connection_id())
    assert [f["id"] for f in frames] == ["chat-1"] * len(frames)
    assert [f["type"] for f in frames][-1] == "done"
    assert {f["type"] for f in frames[:-1]} == {"chunk"}
    # And done carries what the HTTP answer carries, the text aside (it came in the chunks)
    done = frames[-1]
    assert done["provider"] == "slm"
    assert done["fallback_used"] is False
    assert [a["outcome"] for a in done["attempts"]] == ["ok"]
    assert done["usage"]["input_tokens"] > 0
    assert done["request_id"] == load_event("ws_chat")["requestContext"]["requestId"]
    assert "text" not in done
    # And the chunks joined are the answer, recorded as the route records it
    text = text_of(frames)
    assert "Python generator" in text
    interactions = boto3.resource("dynamodb").Table(aws.names["InteractionsTable"]).scan()["Items"]
    assert [i["answer"] for i in interactions] == [text]


def test_handle_error_and_generate_points_answer_their_http_answers_in_done(gateway: Gateway) -> None:
    # When an error and a points request arrive as frames
    gateway.invoke("ws", load_event("ws_handle_error"))
    gateway.invoke("ws", load_event("ws_generate_points"))
    analysis, points = frames_sent(_connection_id())
    # Then each is answered by one done frame carrying the whole HTTP answer
    assert (analysis["type"], analysis["id"]) == ("done", "err-1")
    assert analysis["summary"]
    assert analysis["fix_steps"]
    assert analysis["parsed"]["exception_type"] == "KeyError"
    assert (points["type"], points["id"]) == ("done", "pts-1")
    assert points["count"] == len(points["points"]) == 12


def test_ping_is_answered_pong(gateway: Gateway) -> None:
    gateway.invoke("ws", load_event("ws_ping"))
    assert frames_sent(_connection_id()) == [{"type": "pong"}]


@pytest.mark.parametrize(
    ("body", "frame_id", "code", "named"),
    [
        ("this is not JSON", None, "invalid_json", "not JSON"),
        ("[1, 2]", None, "invalid_json", "JSON object"),
        ({"action": "dance", "id": "d1"}, "d1", "unknown_action", "'dance'".replace("'", '"')),
        ({"id": "n1", "prompt": "hi"}, "n1", "unknown_action", "no action"),
        ({"action": "chat", "prompt": "hi"}, None, "validation_error", "id: required"),
        ({"action": "chat", "id": "x" * 65, "prompt": "hi"}, None, "validation_error", "at most 64"),
        ({"action": "chat", "id": "c1"}, "c1", "validation_error", "prompt: Field required"),
        (
            {"action": "chat", "id": "c2", "prompt": "hi", "max_output_tokens": 0},
            "c2",
            "validation_error",
            "max_output",
        ),
        ({"action": "generate_points", "id": "p1", "prompt": ""}, "p1", "validation_error", "prompt"),
        ({"action": "handle_error", "id": "e1", "error": "oops"}, "e1", "validation_error", "error"),
        ({"action": "chat", "id": "big", "prompt": "x" * 33_000}, None, "frame_too_large", "at most 32768"),
        ('{"action": "chat", "id": "k1", "prompt": "hi", "prompt": "there"}', None, "validation_error", "'prompt'"),
        ('{"action": "chat", "id": "z1", "prompt": "hi\\u0000"}', None, "validation_error", "U+0000"),
        ('{"action": "ping", "x": ' + "[" * 70 + "]" * 70 + "}", None, "validation_error", "deeper than 64"),
    ],
)
def test_a_bad_frame_is_answered_with_an_error_frame_naming_the_problem(
    gateway: Gateway, body: dict[str, Any] | str, frame_id: str | None, code: str, named: str
) -> None:
    # When a frame the gateway cannot act on arrives
    answer = gateway.invoke("ws", _message(body))
    # Then the invocation succeeds (the connection stays open) and one error frame names the problem
    assert answer == {"statusCode": 200}
    (frame,) = frames_sent(_connection_id())
    assert frame["type"] == "error"
    assert frame["id"] == frame_id
    assert frame["error"]["code"] == code
    assert named in frame["error"]["message"]
    assert frame["error"]["request_id"]
    assert gateway.emulator.calls == []  # nothing reached a provider


def test_every_provider_failing_is_an_error_frame_with_the_attempts(gateway: Gateway) -> None:
    # Given every provider answering 503
    gateway.emulator.fail("*", "status", status=503)
    # When a chat arrives
    gateway.invoke("ws", load_event("ws_chat"))
    # Then the only frame is an error naming every attempt: no chunk, no done
    (frame,) = frames_sent(_connection_id())
    assert frame["type"] == "error"
    assert frame["error"]["code"] == "all_providers_failed"
    assert {a["provider"] for a in frame["error"]["details"]["attempts"]} == {"slm", "gemini", "huggingface"}


def test_disconnect_forgets_the_connection(gateway: Gateway, aws: StackResources) -> None:
    # Given a recorded connection
    gateway.invoke("ws", load_event("ws_connect"))
    # When it disconnects
    gateway.invoke("ws", load_event("ws_disconnect"))
    # Then its item is gone
    assert connection_item(aws.names["ConnectionsTable"], _connection_id()) is None


def test_a_client_gone_410_stops_the_request_and_forgets_the_connection(
    gateway: Gateway, aws: StackResources, clean_env: pytest.MonkeyPatch
) -> None:
    # Given a recorded connection whose client has left without a $disconnect, behind a management API that
    # answers 410 GoneException for it (the local WebSocket API's: moto's never answers 410)
    gateway.invoke("ws", load_event("ws_connect"))
    with LocalWebSocketApi("127.0.0.1", 0) as api:
        clean_env.setenv("WS_MANAGEMENT_URL", api.management_url)
        from gateway.config.settings import get_settings

        get_settings.cache_clear()
        # When a chat for it is answered
        answer = gateway.invoke("ws", load_event("ws_chat"))
        # Then the first frame is refused as gone, nothing more is sent, and the connection is forgotten
        assert answer == {"statusCode": 200}
        assert api.gone_posts == [_connection_id()]
    assert connection_item(aws.names["ConnectionsTable"], _connection_id()) is None


def test_an_answer_too_long_for_one_message_comes_in_several_chunks(gateway: Gateway) -> None:
    # Given the small model answering 100,000 characters (a message carries at most 128 KB)
    long_answer = "".join(f"line {n}: généré ✓\n" for n in range(5_000))
    gateway.emulator.fail("slm", "body", body=long_answer)  # the text the model answers
    # When a chat is answered
    gateway.invoke("ws", load_event("ws_chat"))
    frames = frames_sent(_connection_id())
    # Then the text is cut into chunks that each fit a message, joined again they are the answer, and done follows
    assert [f["type"] for f in frames][-1] == "done"
    chunks = [f for f in frames if f["type"] == "chunk"]
    assert len(chunks) > 1
    assert all(len(json.dumps(f, ensure_ascii=False).encode()) <= 128 * 1024 for f in chunks)
    assert text_of(frames) == long_answer
