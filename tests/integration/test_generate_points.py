"""POST /v1/generate-points: validated output, fallback on malformed answers, clear 4xx."""

from __future__ import annotations

import json
import math

import pytest

from tests.conftest import Gateway, load_event


def test_points_are_generated_with_the_count_asked(gateway: Gateway) -> None:
    # Given the generate-points event asking for 12 points on a circle of radius 100 around (50, -20)
    answer = gateway.call("generate_points", load_event("generate_points"))
    # Then 12 finite 2D points come back, from the point generator model
    assert answer.status == 200
    body = answer.body
    assert body["count"] == 12
    assert len(body["points"]) == 12
    assert all(len(p) == 2 and all(math.isfinite(v) for v in p) for p in body["points"])
    assert body["provider"] == "huggingface"
    assert body["model"] == "Qwen/Qwen2.5-7B-Instruct"
    # and the provider was asked for structured output with the points schema
    call = gateway.emulator.calls_for("huggingface")[0]
    assert "points" in json.dumps(call.body["response_format"])


@pytest.mark.parametrize(
    ("bad_answer", "reason"),
    [
        ('{"points": [{"x": 1, "y": 2}]}', "asked for 12 points, got 1"),
        ("not json at all", "not JSON"),
        ('{"points": [' + ",".join(['{"x": NaN, "y": 0}'] * 12) + "]}", "no finite x"),
        ('{"dots": []}', "no points list"),
    ],
)
def test_malformed_model_output_falls_back_to_gemini(gateway: Gateway, bad_answer: str, reason: str) -> None:
    # Given Hugging Face answering with points that are not what was asked
    gateway.emulator.fail("huggingface", "body", body=bad_answer)
    # When points are asked for
    answer = gateway.call("generate_points", load_event("generate_points"))
    # Then that attempt is an invalid_output and Gemini's valid answer is passed on
    assert answer.status == 200
    first, second = answer.body["attempts"]
    assert first["outcome"] == "invalid_output"
    assert reason in first["error"]
    assert second == {**second, "provider": "gemini", "outcome": "ok"}
    assert answer.body["count"] == 12


def test_malformed_output_everywhere_is_a_502_not_a_wrong_answer(gateway: Gateway) -> None:
    gateway.emulator.fail("*", "body", body='{"points": [{"x": 1, "y": 2}]}')
    answer = gateway.call("generate_points", load_event("generate_points"))
    assert answer.status == 502
    assert [a["outcome"] for a in answer.body["error"]["details"]["attempts"]] == ["invalid_output"] * 2


def test_points_outside_the_asked_bounds_are_rejected(gateway: Gateway) -> None:
    gateway.emulator.fail("huggingface", "body", body='{"points": [{"x": 500, "y": 0}, {"x": 0, "y": 0}]}')
    context = {"count": 2, "bounds": {"min": [-10, -10], "max": [10, 10]}}
    answer = gateway.call("generate_points", load_event("generate_points", prompt="two points", context=context))
    assert answer.status == 200
    assert answer.body["attempts"][0]["error"] == "point 0 lies outside the bounds"
    assert answer.body["provider"] == "gemini"
    assert all(-10 <= v <= 10 for point in answer.body["points"] for v in point)


def test_three_dimensional_points(gateway: Gateway) -> None:
    answer = gateway.call("generate_points", load_event("generate_points", context={"count": 5, "dimensions": 3}))
    assert answer.status == 200
    assert answer.body["dimensions"] == 3
    assert all(len(p) == 3 for p in answer.body["points"])


@pytest.mark.parametrize(
    ("context", "field"),
    [
        ({"radius": -3}, "context.radius"),
        ({"count": 100000}, "context.count"),
        ({"count": 0}, "context.count"),
        ({"center": [1, 2, 3], "dimensions": 2}, "context"),
        ({"bounds": {"min": [5, 5], "max": [1, 1]}}, "context.bounds"),
        ({"dimensions": 4}, "context.dimensions"),
        ({"shape": "circle"}, "context.shape"),
    ],
)
def test_impossible_context_is_a_422_naming_the_field(gateway: Gateway, context: dict[str, object], field: str) -> None:
    answer = gateway.call("generate_points", load_event("generate_points", context=context))
    assert answer.status == 422
    assert field in [d["field"] for d in answer.body["error"]["details"]]
    assert gateway.emulator.calls == []


def test_non_finite_numbers_in_the_request_are_rejected(gateway: Gateway) -> None:
    event = load_event("generate_points")
    event["body"] = '{"prompt": "a circle", "context": {"radius": Infinity}}'
    answer = gateway.call("generate_points", event)
    assert answer.status == 422
    assert answer.body["error"]["details"][0]["field"] == "context.radius"
