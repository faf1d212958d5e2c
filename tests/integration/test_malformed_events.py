"""Every handler answers a malformed event with a clear error: a 400 in the error shape for anything that looks like an
API Gateway event, a one-line ValueError naming what is wrong otherwise; never a bare TypeError, KeyError or
binascii.Error (which API Gateway would turn into a 502)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dev.lambda_runtime import FUNCTIONS, LocalLambdaContext, api_event, invoke

HTTP_FUNCTIONS = ("route", "generate_points", "status", "handle_error")


def _api(**changes: Any) -> dict[str, Any]:
    event = api_event("POST", "/v1/route", {"user_id": "u", "prompt": "hi"})
    event.update(changes)
    return {k: v for k, v in event.items() if v is not _MISSING}


_MISSING = object()
BAD_API_EVENTS = {
    "a body marked base64 that is not": (_api(isBase64Encoded=True, body="not base64 at all!"), "not valid base64"),
    "no httpMethod": (_api(httpMethod=_MISSING), "httpMethod is missing"),
    "no path": (_api(path=_MISSING), "path is missing"),
    "headers as a list": (_api(headers=["Content-Type"]), "headers must be an object"),
    "a body that is an object": (_api(body={"prompt": "hi"}), "body must be a string"),
    "isBase64Encoded as a string": (_api(isBase64Encoded="yes"), "isBase64Encoded must be true or false"),
}
NOT_EVENTS = {"None": None, "a list": [1, 2], "a string": "event", "a number": 42}


@pytest.mark.parametrize("function", HTTP_FUNCTIONS)
@pytest.mark.parametrize("name", BAD_API_EVENTS)
def test_an_api_event_that_cannot_be_served_is_a_400_naming_what_is_wrong(
    clean_env: pytest.MonkeyPatch, function: str, name: str
) -> None:
    event, problem = BAD_API_EVENTS[name]
    # When the handler gets an API Gateway event it cannot serve
    answer = invoke(function, json.loads(json.dumps(event)), LocalLambdaContext(function_name=function))
    # Then it answers 400 in the error shape, saying what is wrong, with the headers every answer carries
    assert answer["statusCode"] == 400
    error = json.loads(answer["body"])["error"]
    assert error["code"] == "invalid_event"
    assert problem in error["message"]
    assert error["request_id"] == answer["headers"]["X-Request-Id"]
    assert answer["headers"]["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.parametrize("name", NOT_EVENTS)
def test_an_event_that_is_not_an_object_is_a_one_line_value_error(
    clean_env: pytest.MonkeyPatch, function: str, name: str
) -> None:
    with pytest.raises(ValueError, match=r"^a Lambda event must be a JSON object, not \w+$"):
        invoke(function, NOT_EVENTS[name], LocalLambdaContext(function_name=function))  # type: ignore[arg-type]


UNSERVED: dict[str, tuple[dict[str, Any], str]] = {
    "route": ({"Records": "not a list"}, "expected a batch of aws:sqs records"),
    "status": ({"detail-type": "Object Created"}, "answers API Gateway events and EventBridge schedules"),
    "generate_points": ({"Records": []}, "only answers API Gateway events"),
    "handle_error": ({}, "only answers API Gateway events, not an empty event"),
    "training_consumer": ({"Records": [{"eventSource": "aws:s3"}]}, "expected aws:dynamodb or aws:sqs records"),
    "ws": ({"Records": []}, "only answers API Gateway WebSocket events"),
    "chat": ({"Records": []}, "only answers API Gateway events"),
    "api_key_authorizer": ({"Records": []}, "only answers API Gateway REQUEST authorizer events"),
}


@pytest.mark.parametrize("function", FUNCTIONS)
def test_an_event_a_function_does_not_serve_is_a_value_error_naming_it(
    clean_env: pytest.MonkeyPatch, function: str
) -> None:
    event, message = UNSERVED[function]
    with pytest.raises(ValueError, match=message) as raised:
        invoke(function, event, LocalLambdaContext(function_name=function))
    assert "\n" not in str(raised.value)
