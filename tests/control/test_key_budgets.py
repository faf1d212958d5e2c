"""Budgets per API key and each key's usage, through the real handlers: `PUT`/`DELETE /v1/admin/keys/{id}/budget`,
the route refusing a key over its budget (`429 key_budget_exhausted`) while another key is served, and
`GET /v1/usage` adding up to what the answers said they used."""

from __future__ import annotations

import itertools
import math
import time
from collections import defaultdict
from typing import Any

from dev.lambda_runtime import api_event
from gateway.providers.base import GenerationRequest
from gateway.resilience.spend import worst_case_cost
from tests.conftest import Gateway
from tests.control.admin import ADMIN_ARN, admin, keyed, route

KEY_A, KEY_B = "keyAAAA001", "keyBBBB002"
_prompts = itertools.count()


def _prompt() -> str:
    return f"Say hello to visitor {next(_prompts)} in one sentence."


def _usage(gateway: Gateway, key_id: str | None) -> Any:
    return keyed(gateway, "status", "GET", "/v1/usage", None, key_id)


def test_a_key_past_its_daily_requests_is_429_naming_the_limit_and_its_reset_and_another_key_is_served(
    cloud: Gateway,
) -> None:
    # Given key A allowed 2 requests a day
    answer = admin(cloud, "PUT", f"/v1/admin/keys/{KEY_A}/budget", {"daily_requests": 2})
    assert answer.status == 200
    assert answer.body == {"api_key_id": KEY_A, "daily_usd": None, "daily_requests": 2,
                           "updated_at": answer.body["updated_at"], "updated_by": ADMIN_ARN}  # fmt: skip
    # When it sends 3
    statuses = [route(cloud, _prompt(), KEY_A).status for _ in range(2)]
    refused = route(cloud, _prompt(), KEY_A)
    # Then the third is refused, naming the limit and when it resets (the next UTC midnight), with Retry-After
    assert statuses == [200, 200]
    assert refused.status == 429
    error = refused.body["error"]
    assert error["code"] == "key_budget_exhausted"
    assert "2 requests" in error["message"]
    assert (error["details"]["limit"], error["details"]["value"]) == ("daily_requests", 2)
    midnight = (math.floor(time.time() / 86400) + 1) * 86400
    assert error["details"]["resets_at"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(midnight))
    assert abs(int(refused.headers["retry-after"]) - (midnight - time.time())) < 60
    assert {a["outcome"] for a in error["details"]["attempts"]} == {"key_budget_exhausted"}
    # And key B, and a request without a key, are not affected
    assert route(cloud, _prompt(), KEY_B).status == 200
    assert route(cloud, _prompt(), None).status == 200


def test_a_key_past_its_daily_usd_is_refused_and_deleting_the_budget_serves_it_again(cloud: Gateway) -> None:
    # Given Gemini alone in the chain, and key A allowed a little more than one Gemini call's worst case
    admin(cloud, "PATCH", "/v1/admin/config", {"AI_USE_VLLM_BACKUP": False}, if_match="*")
    request = GenerationRequest("x" * 60, "You are a helpful, precise assistant. Answer in English.", 64)
    worst = worst_case_cost("gemini-2.5-flash", request)
    cloud.emulator.fail("*", "overbill", tokens=64)  # each answer bills all the output it may
    admin(cloud, "PUT", f"/v1/admin/keys/{KEY_A}/budget", {"daily_usd": round(1.5 * worst, 10)})
    # When it asks twice
    first, second = route(cloud, _prompt(), KEY_A), route(cloud, _prompt(), KEY_A)
    # Then the first is answered and the second refused by the key's budget
    assert first.status == 200
    assert second.status == 429
    assert second.body["error"]["details"]["limit"] == "daily_usd"
    assert [a["outcome"] for a in second.body["error"]["details"]["attempts"]] == ["key_budget_exhausted"]
    # When the admin removes the budget
    assert admin(cloud, "DELETE", f"/v1/admin/keys/{KEY_A}/budget").status == 204
    # Then the key is served again, and there is nothing left to remove
    assert route(cloud, _prompt(), KEY_A).status == 200
    assert admin(cloud, "DELETE", f"/v1/admin/keys/{KEY_A}/budget").status == 404


def test_a_budget_must_give_a_limit_within_its_range(cloud: Gateway) -> None:
    for body in ({}, {"daily_usd": -1}, {"daily_requests": 1.5}, {"daily_usd": 1, "monthly_usd": 3}):
        answer = admin(cloud, "PUT", f"/v1/admin/keys/{KEY_A}/budget", body)
        assert answer.status == 422, body
        assert answer.body["error"]["code"] == "validation_error"


def test_usage_adds_up_to_what_the_answers_said_they_used(cloud: Gateway) -> None:
    # Given key A with a budget, and Gemini failing its first call (a fallback to Hugging Face)
    admin(cloud, "PUT", f"/v1/admin/keys/{KEY_A}/budget", {"daily_usd": 5.0, "daily_requests": 100})
    cloud.emulator.fail("gemini", "status", status=503, times=1)
    # When key A asks 4 times and key B once
    answers = [route(cloud, _prompt(), KEY_A).body for _ in range(4)]
    route(cloud, _prompt(), KEY_B)
    # Then key A's usage names it and adds up to its answers' usage, by provider and model
    usage = _usage(cloud, KEY_A)
    assert usage.status == 200
    body = usage.body
    assert body["api_key_id"] == KEY_A
    assert body["requests"] == 4
    expected: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0, 0, 0.0])
    for answer in answers:
        figures = expected[(answer["provider"], answer["model"])]
        figures[0] += answer["usage"]["input_tokens"]
        figures[1] += answer["usage"]["output_tokens"]
        figures[2] += answer["usage"]["cost_usd"]
    by_model = {(m["provider"], m["model"]): m for m in body["by_model"]}
    assert {name for name, m in by_model.items() if m["input_tokens"]} == set(expected)
    for name, (tokens_in, tokens_out, cost) in expected.items():
        assert (by_model[name]["input_tokens"], by_model[name]["output_tokens"]) == (tokens_in, tokens_out)
        assert math.isclose(by_model[name]["cost_usd"], cost, abs_tol=1e-9)
    # (the failed call counts as a call that used nothing)
    assert by_model[("gemini", "gemini-2.5-flash")]["calls"] == sum(a["provider"] == "gemini" for a in answers) + 1
    assert body["input_tokens"] == sum(a["usage"]["input_tokens"] for a in answers)
    assert math.isclose(body["spent_usd"], sum(a["usage"]["cost_usd"] for a in answers), abs_tol=1e-9)
    assert body["budget"]["remaining_requests"] == 96
    assert math.isclose(body["budget"]["remaining_usd"], 5.0 - body["spent_usd"], abs_tol=1e-9)
    # And key B's day is its own; a request without a key has no usage to read
    assert _usage(cloud, KEY_B).body["requests"] == 1
    assert _usage(cloud, None).status == 403


def test_the_key_comes_from_api_gateway_never_from_the_request(cloud: Gateway) -> None:
    route(cloud, _prompt(), KEY_A)
    # When key B's request names key A in its query string and headers
    event = api_event(
        "GET", "/v1/usage", query={"api_key_id": KEY_A}, headers={"x-api-key-id": KEY_A},
        identity={"apiKeyId": KEY_B},
    )  # fmt: skip
    answer = cloud.call("status", event)
    # Then it reads key B's day
    assert (answer.body["api_key_id"], answer.body["requests"]) == (KEY_B, 0)


def test_a_queued_jobs_answer_counts_for_the_key_that_queued_it(cloud: Gateway) -> None:
    from dev.sqs_poller import SqsPoller

    # Given a job key A queued
    accepted = keyed(cloud, "route", "POST", "/v1/jobs", {"user_id": "u", "prompt": _prompt()}, KEY_A)
    assert accepted.status == 202
    # When the queue's consumer answers it (another invocation, with no HTTP request to read a key from)
    counts = SqsPoller(cloud.resources.names["RouteJobsQueue"], "route").drain()
    assert (counts.succeeded, counts.failed) == (1, 0)
    # Then the answer counts in key A's usage, and in no one else's
    assert _usage(cloud, KEY_A).body["requests"] == 1
    assert _usage(cloud, KEY_B).body["requests"] == 0
