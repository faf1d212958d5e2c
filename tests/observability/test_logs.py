"""Every log line is JSON and carries the request's correlation id, which the client gets back."""

from __future__ import annotations

import json
from typing import Any

from dev.lambda_runtime import api_event
from tests.conftest import Gateway, load_event
from tests.observability.capture import Capture

API_GATEWAY_REQUEST_ID = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"  # events/route.json's requestContext.requestId


def _with_header(event: dict[str, Any], name: str, value: str) -> dict[str, Any]:
    event = json.loads(json.dumps(event))
    event["headers"][name] = value
    event["multiValueHeaders"][name] = [value]
    return event


def test_a_clients_request_id_is_on_every_log_line_and_echoed_back(gateway: Gateway, captured: Capture) -> None:
    # Given a client that sends its own X-Request-Id, and an sLM that fails so the request logs a fallback
    gateway.emulator.fail("slm", "status", status=503)
    event = _with_header(load_event("route"), "X-Request-Id", "client-trace-42")
    # When it calls the route endpoint
    answer = gateway.call("route", event)
    output = captured.read()
    # Then the id comes back in the header and the body
    assert answer.status == 200
    assert answer.headers["x-request-id"] == "client-trace-42"
    assert answer.body["request_id"] == "client-trace-42"
    # And every log line of the request is JSON with that correlation id and the function's context
    assert output.logs, "the request wrote no log line"
    for line in output.logs:
        assert line["correlation_id"] == "client-trace-42", line
        assert line["service"] == "ai-gateway"
        assert line["function_name"] == "route"
        assert {"level", "timestamp", "message", "function_request_id", "cold_start"} <= set(line)
    # And the lines tell what happened: the failed sLM attempt, then the answered request
    (failed,) = output.messages("provider attempt failed")
    assert failed["level"] == "WARNING"
    assert failed["attempt"]["provider"] == "slm"
    assert failed["attempt"]["outcome"] == "server_error"
    (access,) = output.messages("request answered")
    assert (access["method"], access["path"], access["status"]) == ("POST", "/v1/route", 200)
    assert access["latency_ms"] > 0


def test_without_a_request_id_api_gateways_is_the_correlation_id(gateway: Gateway, captured: Capture) -> None:
    # Given a request without X-Request-Id
    answer = gateway.call("route", load_event("route"))
    output = captured.read()
    # Then API Gateway's request id is the correlation id, in the answer and on every line
    assert answer.headers["x-request-id"] == API_GATEWAY_REQUEST_ID
    assert answer.body["request_id"] == API_GATEWAY_REQUEST_ID
    assert {line["correlation_id"] for line in output.logs} == {API_GATEWAY_REQUEST_ID}


def test_an_unusable_request_id_is_replaced_not_logged(gateway: Gateway, captured: Capture) -> None:
    # Given an X-Request-Id that could forge log lines (a newline, quotes) or flood them (too long)
    for hostile in ('abc"\n{"level":"ERROR"}', "x" * 129):
        event = _with_header(load_event("status"), "X-Request-Id", hostile)
        # When it is sent
        answer = gateway.call("status", event)
        output = captured.read()
        # Then API Gateway's id is used instead, and the hostile value appears nowhere in the logs
        assert answer.headers["x-request-id"] == event["requestContext"]["requestId"]
        assert hostile not in output.text
        assert {line["correlation_id"] for line in output.logs} == {event["requestContext"]["requestId"]}


def test_errors_are_logged_with_their_code_and_correlation_id(gateway: Gateway, captured: Capture) -> None:
    # Given every provider failing
    for provider in ("slm", "gemini", "huggingface"):
        gateway.emulator.fail(provider, "status", status=500)
    # When a request comes in
    answer = gateway.call("route", api_event("POST", "/v1/route", {"user_id": "u", "prompt": "hello"}))
    output = captured.read()
    # Then the client gets a 502 and the log says why, under the same id, without a traceback
    assert answer.status == 502
    (failure,) = output.messages("request failed")
    assert failure["level"] == "ERROR"
    assert failure["code"] == "all_providers_failed"
    assert failure["correlation_id"] == answer.headers["x-request-id"]
    assert "Traceback" not in output.text
