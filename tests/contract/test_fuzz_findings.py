"""Regressions for what the fuzz run found (tests/contract/test_fuzz.py), checked in-process.

1. A JSON boolean was accepted as a number (pydantic's lax mode read `false` as 0): `temperature`,
   `max_output_tokens`, `context.count`, `context.center`, `context.radius`, `context.bounds`.
2. `context.radius`, `context.center` and `context.bounds` had no upper bound, so an answer's `spec` could break
   the spec's own limits (MAX_COORDINATE): a spec that cannot be drawn again, against the documented schema.
3. The smallest `context.radius` (5e-324) over a model's circle of radius 4.9 gave a spec of radius 0 (the ratio
   of the two underflowed), against the schema; and 5e-324 is no float to snap points to.
4. A centre at the edge of the coordinate range (y = -1e12) over a model's spec that moves its shape by 0.5 with a
   translate needed a translate past the range: every provider's answer was refused, a 502.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from gateway.geometry.spec import MAX_COORDINATE, Spec
from tests.conftest import Gateway


@pytest.mark.parametrize(
    ("function", "path", "body", "field"),
    [
        ("route", "/v1/route", {"user_id": "u", "prompt": "hello", "temperature": False}, "temperature"),
        ("route", "/v1/route", {"user_id": "u", "prompt": "hello", "max_output_tokens": True}, "max_output_tokens"),
        ("route", "/v1/jobs", {"user_id": "u", "prompt": "hello", "temperature": "0.5"}, "temperature"),
        ("generate_points", "/v1/generate-points", {"prompt": "a circle", "context": {"count": True}}, "context.count"),
        (
            "generate_points", "/v1/generate-points", {"prompt": "a circle", "context": {"center": [False, 0]}},
            "context.center.0",
        ),
        (
            "generate_points", "/v1/generate-points", {"prompt": "a circle", "context": {"radius": 1e20}},
            "context.radius",
        ),
        (
            "generate_points", "/v1/generate-points", {"prompt": "a circle", "context": {"center": [1e13, 0]}},
            "context.center.0",
        ),
        (
            "generate_points", "/v1/generate-points",
            {"prompt": "a 3 by 3 grid", "context": {"bounds": {"min": [-1e13, 0], "max": [0, 1]}}},
            "context.bounds.min.0",
        ),
    ],
)  # fmt: skip
def test_a_value_that_is_not_the_documented_number_is_a_422_naming_the_field(
    gateway: Gateway, function: str, path: str, body: dict[str, Any], field: str
) -> None:
    answer = gateway.post(function, path, body)
    assert answer.status == 422, answer.body
    assert answer.body["error"]["code"] == "validation_error"
    assert field in [detail["field"] for detail in answer.body["error"]["details"]]


def test_the_largest_radius_allowed_gives_a_spec_that_validates(gateway: Gateway) -> None:
    answer = gateway.post(
        "generate_points", "/v1/generate-points", {"prompt": "a circle", "context": {"radius": MAX_COORDINATE}}
    )
    assert answer.status == 200, answer.body
    Spec.model_validate(answer.body["spec"])


def test_integers_are_still_numbers(gateway: Gateway) -> None:
    answer = gateway.post(
        "generate_points", "/v1/generate-points", {"prompt": "a circle", "context": {"count": 4, "radius": 2}}
    )
    assert answer.status == 200, answer.body
    assert answer.body["count"] == 4


def test_the_smallest_radius_over_a_models_shape_gives_a_spec_that_validates(gateway: Gateway) -> None:
    # Given a model's circle of radius 4.9, and a context asking for the smallest positive radius
    gateway.emulator.fail("huggingface", "body", body='{"primitives": [{"kind": "circle", "radius": 4.94066}]}')
    body = {"prompt": "a ring of posts", "context": {"radius": 5e-324, "count": 1}}
    # When points are asked for
    answer = gateway.post("generate_points", "/v1/generate-points", body)
    # Then the answer's spec has that radius, and validates
    assert answer.status == 200, answer.body
    assert answer.body["spec"]["primitives"][0]["radius"] == 5e-324
    Spec.model_validate(answer.body["spec"])


def test_a_centre_at_the_edge_of_the_range_moves_a_translated_shape_there(gateway: Gateway) -> None:
    # Given a model's circle centred at (0.5, 0.5) and moved by a translate, and a centre at the range's edge
    spec = {
        "primitives": [{"kind": "circle", "center": [0.5, 0.5]}],
        "transforms": [{"kind": "translate", "offset": [0.5, 0.5]}],
    }
    gateway.emulator.fail("huggingface", "body", body=json.dumps(spec))
    body = {"prompt": "a ring of posts", "context": {"center": {"x": 0, "y": -MAX_COORDINATE}, "count": 4}}
    # When points are asked for
    answer = gateway.post("generate_points", "/v1/generate-points", body)
    # Then that answer is drawn there (not refused), and the answer's spec validates
    assert answer.status == 200, answer.body
    assert answer.body["provider"] == "huggingface", answer.body["attempts"]
    assert answer.body["spec"]["primitives"][0]["center"] == [0, -MAX_COORDINATE]
    Spec.model_validate(answer.body["spec"])
