"""What every response carries (correlation id, security headers, CORS for allowed origins) and what
every request is held to (body size, prompt length), through the real handlers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dev.lambda_runtime import api_event
from dev.local_api import LocalApi
from gateway.config.settings import get_settings
from tests.conftest import Answer, Gateway, load_event

APP = "https://app.example.com"
ADMIN = "https://admin.example.com"
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "cache-control": "no-store",
    "strict-transport-security": "max-age=63072000; includeSubDomains",
    "x-frame-options": "DENY",
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
    "referrer-policy": "no-referrer",
}


def _preflight(origin: str, method: str = "POST", headers: str = "content-type,x-api-key") -> dict[str, str]:
    return {"Origin": origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": headers}


@pytest.fixture
def allow_list(gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> Gateway:
    monkeypatch.setenv("CORS_ALLOW_ORIGINS", f"{APP}, {ADMIN}")
    return gateway


# --------------------------------------------------------------------------- CORS


@pytest.mark.parametrize(
    ("function", "path"),
    [
        ("route", "/v1/route"),
        ("route", "/v1/jobs"),
        ("generate_points", "/v1/generate-points"),
        ("handle_error", "/v1/handle-error"),
        ("status", "/v1/status"),
    ],
)
def test_a_preflight_from_an_allowed_origin_is_answered(allow_list: Gateway, function: str, path: str) -> None:
    # When a browser at an allowed origin asks before a POST with the API key
    answer = allow_list.invoke(function, api_event("OPTIONS", path, headers=_preflight(ADMIN)))
    headers = {k.lower(): v for k, v in answer["headers"].items()}
    # Then it may: its own origin (not "*"), the methods and headers, cached for 10 minutes
    assert answer["statusCode"] == 204
    assert headers["access-control-allow-origin"] == ADMIN
    assert headers["access-control-allow-methods"] == "GET, POST"
    assert {h.strip().lower() for h in headers["access-control-allow-headers"].split(",")} >= {
        "content-type",
        "x-api-key",
    }
    assert headers["access-control-max-age"] == "600"
    assert headers["vary"] == "Origin"
    # And the preflight carries the security headers and a request id like any answer
    assert SECURITY_HEADERS.items() <= headers.items()
    assert headers["x-request-id"]


@pytest.mark.parametrize(
    ("preflight", "named"),
    [
        (_preflight("https://evil.example.com"), "'https://evil.example.com' is not in CORS_ALLOW_ORIGINS"),
        (_preflight(APP, method="DELETE"), "method DELETE is not allowed"),
        (_preflight(APP, headers="content-type,x-admin-token"), "headers not allowed: x-admin-token"),
    ],
)
def test_a_preflight_that_asks_too_much_is_refused(allow_list: Gateway, preflight: dict[str, str], named: str) -> None:
    answer = allow_list.call("route", api_event("OPTIONS", "/v1/route", headers=preflight))
    assert answer.status == 403
    assert answer.body["error"]["code"] == "cors_not_allowed"
    assert named in answer.body["error"]["message"]
    assert "access-control-allow-origin" not in answer.headers


def test_an_allowed_origin_can_read_answers_and_errors_and_another_cannot(allow_list: Gateway) -> None:
    # When an allowed origin gets an answer and an error, and another origin an answer
    ok = allow_list.call("status", api_event("GET", "/v1/status", headers={"Origin": APP}))
    invalid = allow_list.call("route", api_event("POST", "/v1/route", {"user_id": "u"}, headers={"Origin": APP}))
    foreign = allow_list.call("status", api_event("GET", "/v1/status", headers={"Origin": "https://evil.example.com"}))
    # Then the allowed origin may read both, and the id header
    for answer in (ok, invalid):
        assert answer.headers["access-control-allow-origin"] == APP
        assert "X-Request-Id" in answer.headers["access-control-expose-headers"]
        assert answer.headers["vary"] == "Origin"
    assert invalid.status == 422
    # And the other origin's browser is not allowed to read the answer (which is still given: CORS is not auth)
    assert foreign.status == 200
    assert "access-control-allow-origin" not in foreign.headers


def test_without_an_allow_list_no_origin_is_allowed(gateway: Gateway) -> None:
    answer = gateway.call("route", api_event("OPTIONS", "/v1/route", headers=_preflight(APP)))
    assert answer.status == 403
    assert "access-control-allow-origin" not in answer.headers


def test_a_wildcard_origin_is_refused_in_aws_mode_naming_the_variable(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a deployment (GATEWAY_MODE=aws) configured with CORS_ALLOW_ORIGINS=*
    monkeypatch.setenv("GATEWAY_MODE", "aws")
    monkeypatch.setenv("CORS_ALLOW_ORIGINS", "*")
    # When any request comes in, preflight or not
    for answer in (
        gateway.call("status", api_event("GET", "/v1/status")),
        gateway.call("route", api_event("OPTIONS", "/v1/route", headers=_preflight(APP))),
    ):
        # Then it is a configuration error that names the variable, with no CORS header
        assert answer.status == 500
        assert answer.body["error"]["code"] == "configuration_error"
        assert "CORS_ALLOW_ORIGINS" in answer.body["error"]["message"]
        assert "access-control-allow-origin" not in answer.headers


def test_in_local_mode_a_wildcard_allows_any_origin(gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ALLOW_ORIGINS", "*")  # the gateway fixture runs in local mode
    answer = gateway.invoke("route", api_event("OPTIONS", "/v1/route", headers=_preflight("http://localhost:5173")))
    assert answer["statusCode"] == 204
    assert {k.lower(): v for k, v in answer["headers"].items()}["access-control-allow-origin"] == "*"


def test_the_local_api_answers_preflights_like_api_gateway(allow_list: Gateway) -> None:
    # Given the local API, whose routes come from template.yaml (OPTIONS events included)
    api = LocalApi(port=0).start()
    try:
        # When a browser's preflight reaches it
        raw = api.dispatch("OPTIONS", "/v1/generate-points", _preflight(APP), b"")
    finally:
        api.stop()
    # Then the function's handler answers it
    assert raw["statusCode"] == 204
    assert {k.lower(): v for k, v in raw["headers"].items()}["access-control-allow-origin"] == APP


# --------------------------------------------------------------------------- headers on every answer


def _every_kind_of_answer(gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> dict[int, Answer]:
    answers = {
        200: gateway.call("status", load_event("status")),
        404: gateway.call("route", api_event("GET", "/v1/jobs/job_0123456789abcdef0123456789abcdef")),
        405: gateway.call("status", api_event("DELETE", "/v1/status")),
        413: gateway.post("route", "/v1/route", {"user_id": "u", "prompt": "x" * 70_000}),
        422: gateway.post("route", "/v1/route", {"user_id": "u"}),
    }
    for provider in ("slm", "gemini", "huggingface"):
        gateway.emulator.fail(provider, "status", status=500)
    answers[502] = gateway.post("route", "/v1/route", {"user_id": "u", "prompt": "hello"})
    monkeypatch.setenv("SLM_TIMEOUT_MS", "soon")
    get_settings.cache_clear()  # a new instance, started with a broken setting
    answers[500] = gateway.call("route", load_event("route"))
    return answers


def test_every_answer_carries_the_security_headers_and_request_id(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    # When the gateway answers successes and every kind of error
    answers = _every_kind_of_answer(gateway, monkeypatch)
    for status, answer in answers.items():
        # Then each has the status, the security headers and its id, and errors have the one shape
        assert answer.status == status, (status, answer.body)
        assert SECURITY_HEADERS.items() <= answer.headers.items(), status
        assert answer.headers["x-request-id"], status
        if status >= 400:
            assert set(answer.body) == {"error"}, status
            assert answer.body["error"]["request_id"] == answer.headers["x-request-id"], status
            assert "Traceback" not in answer.raw["body"], status


# --------------------------------------------------------------------------- caps


def test_the_body_cap_is_configurable(gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a 2 KB body cap
    monkeypatch.setenv("MAX_BODY_BYTES", "2048")
    # When a 3 KB request comes in
    answer = gateway.post("handle_error", "/v1/handle-error", {"error": {"message": "x" * 3000}})
    # Then it is refused before any work, naming the cap
    assert answer.status == 413
    assert answer.body["error"]["code"] == "payload_too_large"
    assert "2048 bytes" in answer.body["error"]["message"]
    assert gateway.emulator.calls_for("gemini") == []


@pytest.mark.parametrize(
    ("function", "path", "variable", "body", "field"),
    [
        ("route", "/v1/route", "MAX_PROMPT_CHARS_ROUTE", {"user_id": "u", "prompt": "p" * 101}, "prompt"),
        ("route", "/v1/jobs", "MAX_PROMPT_CHARS_ROUTE", {"user_id": "u", "prompt": "p" * 101}, "prompt"),
        ("generate_points", "/v1/generate-points", "MAX_PROMPT_CHARS_POINTS", {"prompt": "a circle " * 12}, "prompt"),
        (
            "handle_error",
            "/v1/handle-error",
            "MAX_PROMPT_CHARS_ERROR",
            {"error": {"message": "m" * 101}},
            "error.message",
        ),
        (
            "handle_error",
            "/v1/handle-error",
            "MAX_PROMPT_CHARS_ERROR",
            {"error": {"message": "boom", "stack": "s" * 101}},
            "error.stack",
        ),
    ],
)
def test_each_endpoint_caps_its_prompt_naming_the_field(
    gateway: Gateway,
    monkeypatch: pytest.MonkeyPatch,
    function: str,
    path: str,
    variable: str,
    body: dict[str, Any],
    field: str,
) -> None:
    # Given a cap of 100 characters for this endpoint
    monkeypatch.setenv(variable, "100")
    # When a longer prompt is sent
    answer = gateway.post(function, path, body)
    # Then it is a 422 naming the field and the cap, and no provider is called
    assert answer.status == 422, answer.body
    assert answer.body["error"]["details"] == [
        {"field": field, "message": "Value error, must be at most 100 characters"}
    ]
    assert all(not gateway.emulator.calls_for(p) for p in ("slm", "gemini", "huggingface"))
    # And at the cap it is accepted
    at_cap = json.loads(json.dumps(body).replace("p" * 101, "p" * 100).replace("m" * 101, "m" * 100))
    if field == "prompt" and function == "route":
        assert gateway.post(function, path, at_cap).status in (200, 202)
