"""Odd request bodies get a clear, documented error naming what is wrong, on every endpoint that takes a body,
through the real handlers (and, for bytes API Gateway would hand over as they came, the local API)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dev.lambda_runtime import api_event
from dev.local_api import LocalApi
from gateway.core.strict_json import MAX_JSON_DEPTH
from scripts.openapi import OPENAPI_DIR
from tests.conftest import Answer, Gateway

# Every operation with a body, a valid body for it, and the path of one of its strings.
WITH_BODY: list[tuple[str, str, dict[str, Any], tuple[str, ...]]] = [
    ("route", "/v1/route", {"user_id": "u", "prompt": "hello"}, ("prompt",)),
    ("route", "/v1/jobs", {"user_id": "u", "prompt": "hello"}, ("prompt",)),
    ("generate_points", "/v1/generate-points", {"prompt": "8 points on a circle"}, ("prompt",)),
    ("handle_error", "/v1/handle-error", {"error": {"message": "KeyError: 'id'"}}, ("error", "message")),
    ("status", "/v1/admin/circuits/reset", {"provider": "gemini"}, ("provider",)),
]
IDS = [f"{path}" for _, path, _, _ in WITH_BODY]


def _with(body: dict[str, Any], path: tuple[str, ...], value: str) -> dict[str, Any]:
    copy: dict[str, Any] = json.loads(json.dumps(body))
    node = copy
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return copy


def _send(gateway: Gateway, function: str, path: str, raw: bytes | str, content_type: str | None) -> Answer:
    event = api_event("POST", path, raw, headers={"Content-Type": content_type or ""})
    if content_type is None:
        for headers in (event["headers"], event["multiValueHeaders"]):
            del headers["Content-Type"]
    return gateway.call(function, event)


def _refused(answer: Answer, status: int, code: str, *named: str) -> dict[str, Any]:
    assert answer.status == status, answer.body
    error: dict[str, Any] = answer.body["error"]
    assert error["code"] == code
    assert error["request_id"] == answer.headers["x-request-id"]
    for words in named:
        assert words in error["message"], error["message"]
    return error


@pytest.mark.parametrize(("function", "path", "body", "field"), WITH_BODY, ids=IDS)
def test_a_control_character_in_a_string_is_a_422_naming_the_field(
    gateway: Gateway, function: str, path: str, body: dict[str, Any], field: tuple[str, ...]
) -> None:
    # Given a string of NUL characters where the endpoint takes text
    nul = _with(body, field, "\x00\x00")
    # When it is sent
    answer = gateway.post(function, path, nul)
    # Then it is refused, naming the field and the character; nothing reaches a provider
    error = _refused(answer, 422, "validation_error", "U+0000", "only tab, line feed and carriage return")
    assert error["details"][0]["field"] == ".".join(field)
    assert gateway.emulator.calls == []


def test_tabs_and_newlines_are_text_and_other_control_characters_are_not(gateway: Gateway) -> None:
    prompt = "line one\r\n\tline two: 8 points on a circle"
    assert gateway.post("generate_points", "/v1/generate-points", {"prompt": prompt}).status == 200
    for character in ("\x1b", "\x7f", "\x85", "\x0c"):
        answer = gateway.post("generate_points", "/v1/generate-points", {"prompt": f"a circle{character}"})
        _refused(answer, 422, "validation_error", f"U+{ord(character):04X}")
    # a key is text too
    answer = gateway.post("handle_error", "/v1/handle-error", {"error": {"message": "x"}, "context": {"a\x00": 1}})
    _refused(answer, 422, "validation_error", "a key contains the control character U+0000")


@pytest.mark.parametrize(("function", "path", "body", "field"), WITH_BODY, ids=IDS)
def test_a_body_that_is_not_utf8_is_a_400_not_repaired(
    gateway: Gateway, function: str, path: str, body: dict[str, Any], field: tuple[str, ...]
) -> None:
    # Given a body with a byte that is not UTF-8 inside a string
    raw = json.dumps(_with(body, field, "caf@")).encode().replace(b"@", b"\xe9")
    # When it reaches the function (API Gateway hands such bytes over base64-encoded)
    answer = _send(gateway, function, path, raw, "application/json")
    # Then it is refused, naming the byte, and nothing is passed on
    _refused(answer, 400, "invalid_encoding", "not valid UTF-8", "byte 0xe9")
    assert gateway.emulator.calls == []


def test_the_local_api_hands_bytes_that_are_not_utf8_to_the_function_as_they_came(gateway: Gateway) -> None:
    # Given the local API, and a prompt with a Latin-1 byte
    raw = b'{"prompt": "8 points on a circle caf\xe9"}'
    api = LocalApi(port=0).start()
    try:
        # When it is sent through it
        answer = api.dispatch("POST", "/v1/generate-points", {"Content-Type": "application/json"}, raw)
    finally:
        api.stop()
    # Then the function sees the byte, and refuses it (it was replaced by U+FFFD and answered before)
    assert answer["statusCode"] == 400
    assert json.loads(answer["body"])["error"]["code"] == "invalid_encoding"


@pytest.mark.parametrize(("function", "path", "body", "field"), WITH_BODY, ids=IDS)
def test_a_key_given_twice_is_a_422_naming_the_key(
    gateway: Gateway, function: str, path: str, body: dict[str, Any], field: tuple[str, ...]
) -> None:
    # Given a body whose first string field appears twice, the second time with another value
    text = json.dumps(body)
    key = json.dumps(field[-1])
    twice = text.replace(f"{key}: ", f'{key}: "first", {key}: ', 1)
    # When it is sent
    answer = _send(gateway, function, path, twice, "application/json")
    # Then neither value wins silently: it is refused, naming the key and where it is
    error = _refused(answer, 422, "validation_error", f"the key '{field[-1]}' appears more than once")
    assert error["details"][0]["field"] == (".".join(field[:-1]) or "body")


@pytest.mark.parametrize(
    ("content_type", "named"),
    [
        ("text/plain", "'text/plain' is not JSON"),
        ("application/x-www-form-urlencoded", "'application/x-www-form-urlencoded' is not JSON"),
        (None, "no Content-Type"),
        ("application/json; charset=latin-1", "not charset=latin-1"),
    ],
)
@pytest.mark.parametrize(("function", "path", "body", "field"), WITH_BODY, ids=IDS)
def test_a_body_not_declared_as_json_is_a_415_naming_the_content_type(
    gateway: Gateway,
    function: str,
    path: str,
    body: dict[str, Any],
    field: tuple[str, ...],
    content_type: str | None,
    named: str,
) -> None:
    answer = _send(gateway, function, path, json.dumps(body), content_type)
    _refused(answer, 415, "unsupported_media_type", named)


def test_json_types_with_a_suffix_and_a_utf8_charset_are_json(gateway: Gateway) -> None:
    body = json.dumps({"prompt": "8 points on a circle"})
    for content_type in ("application/json; charset=UTF-8", "application/vnd.api+json", "Application/JSON"):
        assert _send(gateway, "generate_points", "/v1/generate-points", body, content_type).status == 200


@pytest.mark.parametrize(("function", "path", "body", "field"), WITH_BODY, ids=IDS)
@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 10_000])
def test_json_nested_too_deep_is_a_422_naming_the_limit(
    gateway: Gateway, function: str, path: str, body: dict[str, Any], field: tuple[str, ...], depth: int
) -> None:
    # Given a body holding arrays nested past the limit (the body itself is one more level)
    nested = json.dumps(body)[:-1] + ', "deep": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"
    # When it is sent
    answer = _send(gateway, function, path, nested, "application/json")
    # Then it is refused, naming the limit
    _refused(answer, 422, "validation_error", f"deeper than {MAX_JSON_DEPTH} levels")


def test_json_nested_to_the_limit_is_read(gateway: Gateway) -> None:
    # the body and context are two levels; an unknown field at the limit is refused by the model, not the reader
    nested = '{"prompt": "8 points on a circle", "x": ' + "[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1) + "}"
    answer = _send(gateway, "generate_points", "/v1/generate-points", nested, "application/json")
    _refused(answer, 422, "validation_error", "x: Extra inputs are not permitted")


@pytest.mark.parametrize(("function", "path", "body", "field"), WITH_BODY, ids=IDS)
def test_every_status_an_odd_body_gets_is_documented(
    function: str, path: str, body: dict[str, Any], field: tuple[str, ...]
) -> None:
    operation = json.loads((OPENAPI_DIR / f"{function}.json").read_text())["paths"][path]["post"]
    assert {"400", "413", "415", "422"} <= set(operation["responses"])
    assert f"deeper than {MAX_JSON_DEPTH} levels" in operation["responses"]["422"]["description"]
