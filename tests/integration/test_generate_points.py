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


# --------------------------------------------------------------------------- what a new user trips on (issue 16)


def as_lists(points: list[dict[str, float]]) -> list[list[float]]:
    return [[p[axis] for axis in "xyz" if axis in p] for p in points]


def test_the_seed_systems_request_with_a_point_object_is_answered_with_point_objects(gateway: Gateway) -> None:
    # Given the request the seed system documents: "in a circle", the centre as {"x", "y"}
    context = {"radius": 100, "center": {"x": 0, "y": 0}}
    event = load_event("generate_points", prompt="Generate 10 points in a circle", context=context)
    # When it is sent
    answer = gateway.call("generate_points", event)
    # Then the 10 points of that circle come back, as objects like the centre was given, from the local parser
    assert answer.status == 200, answer.body
    body = answer.body
    assert (body["count"], body["provider"], body["exact"]) == (10, "local", True)
    assert all(set(point) == {"x", "y"} for point in body["points"])
    assert on_circle(as_lists(body["points"]), [0, 0], 100)
    assert body["points"][0] == {"x": 100.0, "y": 0.0}
    assert gateway.emulator.calls == []


def test_points_may_be_objects_or_lists_anywhere_a_point_is_taken(gateway: Gateway) -> None:
    # Given a centre in 3D as an object, and bounds whose corners are objects
    centred = {"center": {"x": 1, "y": 2, "z": 3}, "radius": 2}
    bounded = {"bounds": {"min": {"x": 0, "y": 0}, "max": [10, 10]}}
    # When points are asked for with each
    circle = load_event("generate_points", prompt="8 points on a circle", context=centred)
    in_space = gateway.call("generate_points", circle)
    in_box = gateway.call("generate_points", load_event("generate_points", prompt="a 3x3 grid", context=bounded))
    # Then each answers in objects, with z when the points are in space, drawn where the objects say
    assert in_space.status == 200, in_space.body
    assert all(set(point) == {"x", "y", "z"} for point in in_space.body["points"])
    assert on_circle(as_lists(in_space.body["points"]), [1, 2, 3], 2)
    assert in_box.status == 200, in_box.body
    assert {(p["x"], p["y"]) for p in in_box.body["points"]} == {(x, y) for x in (0, 5, 10) for y in (0, 5, 10)}
    # and a request with lists only is answered with lists, as before
    lists = gateway.call("generate_points", load_event("generate_points", context={"center": [1, 2], "radius": 2}))
    assert all(isinstance(point, list) for point in lists.body["points"])


@pytest.mark.parametrize(
    ("center", "named"),
    [
        ({"x": 1}, "a point is [x, y], [x, y, z]"),
        ({"x": 1, "y": 2, "w": 3}, "keys x, y, w"),
        ({"x": "1", "y": 2}, "x must be a number"),
        ({"x": True, "y": 2}, "x must be a number"),
        ([1], "at least 2 items"),
    ],
)
def test_a_malformed_point_is_a_422_naming_the_field_and_the_shapes_a_point_takes(
    gateway: Gateway, center: object, named: str
) -> None:
    answer = gateway.call("generate_points", load_event("generate_points", context={"center": center}))
    assert answer.status == 422
    [detail] = answer.body["error"]["details"]
    assert detail["field"] == "context.center"
    assert named in detail["message"]


def test_in_a_circle_is_read_locally_and_its_count_kept(gateway: Gateway) -> None:
    # Given the seed system's prompt with the centre as a list
    event = load_event(
        "generate_points", prompt="Generate 10 points in a circle", context={"radius": 100, "center": [0, 0]}
    )
    # When it is sent
    body = gateway.call("generate_points", event).body
    # Then the local parser reads it: 10 points, exact, no provider called
    assert (body["count"], body["provider"], body["exact"]) == (10, "local", True)
    assert on_circle(body["points"], [0, 0], 100)
    assert gateway.emulator.calls == []


def test_a_models_spec_that_contradicts_a_count_in_the_prompt_is_invalid_and_the_next_provider_is_tried(
    gateway: Gateway,
) -> None:
    # Given Hugging Face drawing 500 points, and Gemini a circle of the right radius that leaves the count out
    gateway.emulator.fail("huggingface", "body", body=json.dumps({"primitives": [{"kind": "circle", "count": 500}]}))
    gateway.emulator.fail("gemini", "body", body=json.dumps({"primitives": [{"kind": "circle", "radius": 100}]}))
    # When a prompt with a count and a radius, and words only a model reads, is sent
    prompt = "10 points on a circle of radius 100 for the garden lights"
    answer = gateway.call("generate_points", load_event("generate_points", prompt=prompt, context={}))
    # Then the 500 points are an invalid_output naming the count, and Gemini's circle is drawn with the prompt's 10
    assert answer.status == 200, answer.body
    body = answer.body
    first, second = body["attempts"]
    assert (first["provider"], first["outcome"]) == ("huggingface", "invalid_output")
    assert "500 points but the prompt asks for 10" in first["error"]
    assert (second["provider"], second["outcome"], body["provider"]) == ("gemini", "ok", "gemini")
    assert (body["count"], body["exact"]) == (10, True)
    assert on_circle(body["points"], [0, 0], 100)
    # and each model was told the prompt's numbers
    sent = json.dumps(gateway.emulator.calls_for("huggingface")[0].body)
    assert "count: 10" in sent
    assert "radius: 100" in sent


@pytest.mark.parametrize(
    ("prompt", "contradicting", "named"),
    [
        ("10 points on a circle of radius 100 for the garden lights", {"kind": "circle", "radius": 50}, "radius is 50"),
        (
            "the 6 corners of a honeycomb cell with sides of 2 cm",
            {"kind": "polygon", "sides": 6, "side_length": 3},
            "side is 3 but the prompt says 2",
        ),
    ],
)
def test_a_models_spec_that_contradicts_a_length_in_the_prompt_is_invalid(
    gateway: Gateway, prompt: str, contradicting: dict[str, object], named: str
) -> None:
    # Given Hugging Face contradicting a length the prompt states, and Gemini leaving the sizes out
    gateway.emulator.fail("huggingface", "body", body=json.dumps({"primitives": [contradicting]}))
    kind = {"kind": contradicting["kind"], **({"sides": 6} if contradicting["kind"] == "polygon" else {})}
    gateway.emulator.fail("gemini", "body", body=json.dumps({"primitives": [kind]}))
    # When the prompt is sent
    body = gateway.call("generate_points", load_event("generate_points", prompt=prompt, context={})).body
    # Then that spec is an invalid_output naming the length, and Gemini's is drawn with the prompt's
    assert named in body["attempts"][0]["error"]
    assert body["provider"] == "gemini"
    points = body["points"]
    sizes = [math.dist(a, b) for a, b in zip(points, points[1:] + points[:1], strict=True)]
    expected = 2 if "side" in named else 2 * 100 * math.sin(math.pi / 10)
    assert all(abs(size - expected) <= TOL * 100 for size in sizes)


def test_the_context_wins_over_the_prompts_count(gateway: Gateway) -> None:
    # Given a model drawing 12 points, and a prompt saying 10 but a context pinning 12
    gateway.emulator.fail("huggingface", "body", body=json.dumps({"primitives": [{"kind": "circle", "count": 12}]}))
    prompt = "10 points on a circle for the garden lights"
    answer = gateway.call("generate_points", load_event("generate_points", prompt=prompt, context={"count": 12}))
    # Then the context's count stands and the model's spec is not held to the prompt's
    assert (answer.body["provider"], answer.body["count"]) == ("huggingface", 12)


def test_exact_points_carry_no_float_noise(gateway: Gateway) -> None:
    # Given shapes whose points are simple numbers in exact arithmetic
    hexagon = gateway.call(
        "generate_points", load_event("generate_points", prompt="6 points on a hexagon of side 30", context={})
    ).body
    circle = gateway.call(
        "generate_points", load_event("generate_points", prompt="12 points on a circle of radius 100", context={})
    ).body
    # Then they come back as those numbers, not a few ULPs off (15.000000000000016, 2.1e-14)
    xs = sorted(x for x, _ in hexagon["points"])
    assert xs == [-30.0, -15.0, -15.0, 15.0, 15.0, 30.0]
    assert sorted(abs(y) for _, y in hexagon["points"])[:2] == [0.0, 0.0]
    assert hexagon["spec"]["primitives"][0]["radius"] == 30.0
    simple = [v for point in circle["points"] for v in point if abs(v * 2 - round(v * 2)) < 1e-9]
    assert len(simple) == 16  # 0 and ±100 at the 4 axis points, ±50 at the other 8
    assert all(v == round(v * 2) / 2 for v in simple)
    # and what is not a simple number is left as computed (100 cos 30 = 50√3)
    assert any(abs(v - 50 * math.sqrt(3)) <= 1e-12 for point in circle["points"] for v in point)
