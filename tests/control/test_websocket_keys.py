"""A WebSocket connection's requests count against the API key it was accepted with, as HTTP requests do."""

from __future__ import annotations

import json

from dev.aws_stack import StackResources
from tests.conftest import Gateway, load_event
from tests.control.admin import admin, keyed
from tests.ws.conftest import frames_sent


def test_a_connections_frames_count_against_its_key_and_its_budget(gateway: Gateway, aws: StackResources) -> None:
    # Given a connection accepted with the standard plan's key, whose budget allows one request today
    key_id = aws.names["GatewayApiApiKey"]
    assert gateway.invoke("ws", load_event("ws_connect")) == {"statusCode": 200}
    assert admin(gateway, "PUT", f"/v1/admin/keys/{key_id}/budget", {"daily_requests": 1}).status == 200
    chat = load_event("ws_chat")
    connection = chat["requestContext"]["connectionId"]
    # When it sends two chat frames
    for frame_id in ("q1", "q2"):
        chat["body"] = json.dumps({"action": "chat", "id": frame_id, "prompt": f"Say hello ({frame_id})"})
        gateway.invoke("ws", chat)
    # Then the first is answered and the second refused by the key's budget, as an error frame
    frames = frames_sent(connection)
    assert [f["type"] for f in frames if f["id"] == "q1"][-1] == "done"
    (refused,) = [f for f in frames if f["id"] == "q2"]
    assert (refused["type"], refused["error"]["code"]) == ("error", "key_budget_exhausted")
    # And the key's usage counts the connection's request
    assert keyed(gateway, "status", "GET", "/v1/usage", None, key_id).body["requests"] == 1
