"""POST /v1/generate-points: exact points from a shape spec (the local parser's or a model's), clear 4xx."""

from __future__ import annotations

import json
import math

import boto3
import pytest

from gateway.geometry.engine import render
from gateway.geometry.spec import Spec
from tests.conftest import Gateway, load_event

TOL = 1e-9


def on_circle(points: list[list[float]], center: list[float], radius: float) -> bool:
    return all(abs(math.dist(p, center) - radius) <= TOL * radius for p in points)


def test_a_prompt_the_parser_understands_is_drawn_locally_with_no_provider(gateway: Gateway) -> None:
    # Given the event asking for 12 points on a circle of radius 100 centred at (50, -20)
    answer = gateway.call("generate_points", load_event("generate_points"))
    # Then 12 points come back, exactly on that circle and evenly spaced, from the local parser
    assert answer.status == 200
    body = answer.body
    assert (body["count"], body["dimensions"], body["exact"]) == (12, 2, True)
    assert on_circle(body["points"], [50, -20], 100)
    chords = [math.dist(a, b) for a, b in zip(body["points"], body["points"][1:] + body["points"][:1], strict=True)]
    assert max(chords) - min(chords) <= TOL * 100
    assert (body["provider"], body["model"], body["fallback_used"]) == ("local", "local-parser", False)
    assert body["usage"] == {"input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0}
    assert [a["provider"] for a in body["attempts"]] == ["local"]
    # and the spec it drew comes back, and no provider was called
    assert body["spec"]["primitives"][0] == {**body["spec"]["primitives"][0], "kind": "circle", "radius": 100.0}
    assert gateway.emulator.calls == []
    # and so are shapes in space
    prompt = "a helix of radius 2 with 3 turns and height 10, 30 points"
    helix = gateway.call("generate_points", load_event("generate_points", prompt=prompt, context={})).body
    assert (helix["dimensions"], helix["count"], helix["provider"]) == (3, 30, "local")
    assert all(abs(math.hypot(x, y) - 2) <= TOL * 2 and 0 <= z <= 10 for x, y, z in helix["points"])


def test_a_prompt_for_a_model_asks_for_a_shape_spec_and_draws_it_exactly(gateway: Gateway) -> None:
    # Given a prompt the parser cannot read on its own, and a context that pins the circle
    event = load_event(
        "generate_points",
        prompt="hang twelve lanterns around the fountain",
        context={"count": 12, "radius": 100, "center": [50, -20]},
    )
    # When it is sent (the emulator answers with a spec generated from the schema)
    answer = gateway.call("generate_points", event)
    # Then the point generator was asked for a shape spec, not coordinates
    assert answer.status == 200
    call = gateway.emulator.calls_for("huggingface")[0]
    assert '"primitives"' in json.dumps(call.body["response_format"])
    assert call.body["model"] == "Qwen/Qwen2.5-7B-Instruct"
    # and its spec, under the context, is drawn exactly
    body = answer.body
    assert (body["provider"], body["count"], body["exact"]) == ("huggingface", 12, True)
    assert on_circle(body["points"], [50, -20], 100)
    assert body["usage"]["input_tokens"] > 0


def test_a_model_spec_is_drawn_exactly_and_the_returned_spec_draws_it_again(gateway: Gateway) -> None:
    # Given a model that answers with a hexagon spec
    spec = {"primitives": [{"kind": "polygon", "sides": 6, "radius": 10, "center": [1, 2], "count": None}]}
    gateway.emulator.fail("huggingface", "body", body=json.dumps(spec))
    # When a shape only a model can read is asked for
    answer = gateway.call(
        "generate_points", load_event("generate_points", prompt="the corners of a honeycomb cell", context={})
    )
    # Then the six vertices are exact
    assert answer.status == 200
    points = answer.body["points"]
    assert len(points) == 6
    assert on_circle(points, [1, 2], 10)
    assert all(abs(math.dist(a, b) - 10) <= TOL * 10 for a, b in zip(points, points[1:] + points[:1], strict=True))
    # and the spec in the answer draws the same points again
    assert render(Spec.model_validate(answer.body["spec"])) == points


RING = {"count": 12, "radius": 5, "center": [0, 0], "dimensions": 2}
BAD_SPECS: list[tuple[str, dict[str, object], str]] = [
    ("not json at all", RING, "not JSON"),
    ('{"primitives": []}', RING, "primitives"),
    ('{"primitives": [{"kind": "blob"}]}', RING, "does not match any of the expected tags"),
    ('{"primitives": [{"kind": "circle", "radius": -1}]}', RING, "radius"),
    ('{"primitives": [{"kind": "circle", "center": [NaN, 0]}]}', RING, "finite"),
    ('{"primitives": [{"kind": "raw", "points": [[1, 2]]}]}', RING, "asked for 12 points, got 1"),
    ('{"primitives": [{"kind": "sphere", "radius": 1}]}', RING, "three-dimensional"),
    (
        '{"primitives": [{"kind": "circle", "radius": 50}]}',
        {"bounds": {"min": [-9, -9], "max": [9, 9]}},
        "outside the bounds",
    ),
]


def test_a_spec_that_does_not_validate_or_fit_falls_back_to_gemini(gateway: Gateway) -> None:
    for bad_answer, context, reason in BAD_SPECS:
        # Given Hugging Face answering with a spec that is not one, or cannot be drawn as the context asks
        gateway.emulator.reset()
        gateway.emulator.fail("huggingface", "body", body=bad_answer)
        # When points are asked for
        answer = gateway.call(
            "generate_points", load_event("generate_points", prompt="a ring of posts", context=context)
        )
        # Then that attempt is an invalid_output naming why, and Gemini's spec is drawn
        assert answer.status == 200, bad_answer
        first, second = answer.body["attempts"]
        assert first["outcome"] == "invalid_output", bad_answer
        assert reason in first["error"], bad_answer
        assert second == {**second, "provider": "gemini", "outcome": "ok"}
        assert answer.body["provider"] == "gemini"
        assert all(-9 <= v <= 9 for point in answer.body["points"] for v in point)
        # and Gemini was asked with the same schema
        sent = json.dumps(gateway.emulator.calls_for("gemini")[0].body)
        assert "primitives" in sent
        assert "random_in_disc" in sent


def test_every_provider_down_leaves_the_local_parser_to_answer(gateway: Gateway) -> None:
    # Given both providers failing, and a prompt the parser reads but for two words
    gateway.emulator.fail("*", "status", status=503)
    prompt = "place 12 chairs on a circle of radius 2 around the table"
    # When points are asked for
    answer = gateway.call("generate_points", load_event("generate_points", prompt=prompt, context={}))
    # Then the local parser answers, exactly, and says what it tried and what it ignored
    assert answer.status == 200
    body = answer.body
    assert (body["provider"], body["fallback_used"], body["count"]) == ("local", True, 12)
    assert [(a["provider"], a["outcome"]) for a in body["attempts"]] == [
        ("huggingface", "server_error"),
        ("gemini", "server_error"),
        ("local", "ok"),
    ]
    assert on_circle(body["points"], [0, 0], 2)
    assert "chairs, table" in body["warnings"][0]
    assert body["usage"]["cost_usd"] == 0.0


def test_providers_held_back_by_the_spend_cap_leave_the_local_parser_to_answer(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a daily cap too small for any paid call
    monkeypatch.setenv("AI_DAILY_COST_LIMIT", "0.0000001")
    prompt = "place 12 chairs on a circle of radius 2 around the table"
    # When points are asked for
    answer = gateway.call("generate_points", load_event("generate_points", prompt=prompt, context={}))
    # Then no provider is called and the local parser answers
    assert answer.status == 200
    assert [(a["provider"], a["outcome"]) for a in answer.body["attempts"]] == [
        ("huggingface", "budget_exceeded"),
        ("gemini", "budget_exceeded"),
        ("local", "ok"),
    ]
    assert gateway.emulator.calls == []


def test_with_no_provider_configured_the_local_parser_still_answers(gateway: Gateway) -> None:
    # Given a deployment with no provider keys at all
    boto3.client("secretsmanager").put_secret_value(
        SecretId=gateway.resources.secret_name, SecretString='{"GEMINI_API_KEY": "", "HUGGINGFACE_API_KEY": ""}'
    )
    # When a prompt the parser reads in part is sent
    answer = gateway.call(
        "generate_points", load_event("generate_points", prompt="8 lamps on a circle of radius 3", context={})
    )
    # Then it answers locally; a prompt it cannot read at all is a 503 naming the cause
    assert (answer.status, answer.body["provider"], answer.body["count"]) == (200, "local", 8)
    assert on_circle(answer.body["points"], [0, 0], 3)
    unreadable = gateway.call("generate_points", load_event("generate_points", prompt="a smiley face", context={}))
    assert unreadable.status == 503
    assert unreadable.body["error"]["code"] == "no_provider_configured"


def test_a_shape_no_primitive_expresses_comes_back_as_raw_points_clipped_and_not_exact(gateway: Gateway) -> None:
    # Given a model answering a smiley face with its own points, two of them outside the asked bounds
    raw = [[-3, 3], [3, 3], [-4, -2], [0, -4], [4, -2], [20, 0], [0, -50]]
    gateway.emulator.fail("huggingface", "body", body=json.dumps({"primitives": [{"kind": "raw", "points": raw}]}))
    context = {"bounds": {"min": [-5, -5], "max": [5, 5]}}
    # When a smiley face is asked for
    answer = gateway.call("generate_points", load_event("generate_points", prompt="a smiley face", context=context))
    # Then the model's points come back, flagged not exact, clipped to the bounds
    assert answer.status == 200
    assert answer.body["exact"] is False
    assert answer.body["points"] == [[-3, 3], [3, 3], [-4, -2], [0, -4], [4, -2], [5, 0], [0, -5]]
    assert answer.body["provider"] == "huggingface"


def test_malformed_specs_everywhere_are_a_502_not_a_wrong_answer(gateway: Gateway) -> None:
    gateway.emulator.fail("*", "body", body='{"points": [{"x": 1, "y": 2}]}')
    answer = gateway.call("generate_points", load_event("generate_points", prompt="a smiley face", context={}))
    assert answer.status == 502
    assert [a["outcome"] for a in answer.body["error"]["details"]["attempts"]] == ["invalid_output"] * 2


IMPOSSIBLE_CONTEXTS: list[tuple[dict[str, object], str]] = [
    ({"radius": -3}, "context.radius"),
    ({"count": 100000}, "context.count"),
    ({"count": 0}, "context.count"),
    ({"center": [1, 2, 3], "dimensions": 2}, "context"),
    ({"bounds": {"min": [5, 5], "max": [1, 1]}}, "context.bounds"),
    ({"dimensions": 4}, "context.dimensions"),
    ({"shape": "circle"}, "context.shape"),
]
CONTRADICTIONS: list[tuple[str, dict[str, object], str]] = [
    ("a circle of radius 100", {"bounds": {"min": [-10, -10], "max": [10, 10]}}, "context.bounds"),
    ("100 points on a sphere of radius 5", {"dimensions": 2}, "context.dimensions"),
    ("a grid of 100 by 100", {}, "prompt"),
]


def test_bad_input_is_a_422_naming_the_field(gateway: Gateway) -> None:
    # Impossible context
    for context, field in IMPOSSIBLE_CONTEXTS:
        answer = gateway.call("generate_points", load_event("generate_points", context=context))
        assert answer.status == 422, context
        assert field in [d["field"] for d in answer.body["error"]["details"]], context
    # A prompt its context contradicts
    for prompt, context, field in CONTRADICTIONS:
        answer = gateway.call("generate_points", load_event("generate_points", prompt=prompt, context=context))
        assert answer.status == 422, prompt
        assert [d["field"] for d in answer.body["error"]["details"]] == [field], prompt
    # A number that is not finite
    event = load_event("generate_points")
    event["body"] = '{"prompt": "a circle", "context": {"radius": Infinity}}'
    answer = gateway.call("generate_points", event)
    assert answer.status == 422
    assert answer.body["error"]["details"][0]["field"] == "context.radius"
    # and no provider heard of any of it
    assert gateway.emulator.calls == []
