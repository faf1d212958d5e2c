"""A model's shape spec: the schema every provider fills, and what counts as a usable answer."""

from __future__ import annotations

import json
from typing import Any

import pytest
from google.genai import _transformers, types

from dev.emulator import generate_from_schema
from gateway.endpoints.points import PointsContext, draw_answer
from gateway.geometry.spec import SpecError, parse_spec, spec_schema
from gateway.resilience.attempts import OutputRejectedError

FORBIDDEN_BY_GEMINI = {"exclusiveMinimum", "exclusiveMaximum", "additionalProperties", "$ref", "oneOf", "anyOf"}


def keys_in(schema: Any) -> set[str]:
    if isinstance(schema, dict):
        return set(schema) | {k for v in schema.values() for k in keys_in(v)}
    if isinstance(schema, list):
        return {k for v in schema for k in keys_in(v)}
    return set()


def test_the_schema_is_one_google_genai_accepts_as_a_response_schema() -> None:
    # Given the schema sent to every provider
    schema = spec_schema(1000)
    # Then it uses nothing Gemini's Schema lacks, and google-genai converts it, enums and limits intact
    assert keys_in(schema) & FORBIDDEN_BY_GEMINI == set()
    converted = _transformers.t_schema(None, schema)
    assert isinstance(converted, types.Schema)
    assert converted.properties is not None
    primitive = converted.properties["primitives"].items
    assert primitive is not None
    assert primitive.properties is not None
    assert "raw" in (primitive.properties["kind"].enum or [])
    assert primitive.properties["count"].maximum == 1000


def test_a_flat_answer_with_every_field_filled_keeps_only_what_its_kind_uses() -> None:
    # Given what a model (here the emulator) fills in: every field of the flat primitive
    answer = generate_from_schema(spec_schema(1000))
    # When it is parsed
    spec = parse_spec(json.dumps(answer))
    # Then it is a circle; the other kinds' fields are ignored, not an error
    assert spec.primitives[0].kind == "circle"
    assert "sides" not in spec.primitives[0].model_dump()


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[1, 2]", "not a JSON object"),
        ("{", "not JSON"),
        ('{"primitives": [{"kind": "hexagon"}]}', "does not match any of the expected tags"),
        ('{"primitives": [{"kind": "star", "radius": 1, "inner_radius": 2}]}', "inner_radius must be smaller"),
        ('{"primitives": [{"kind": "polygon", "sides": 2}]}', "greater than or equal to 3"),
        ('{"primitives": [{"kind": "line", "start": [1e400, 0]}]}', "finite"),
        ('{"primitives": [{"kind": "polyline", "vertices": [[0, 0]]}]}', "at least 2"),
        ('{"primitives": [{"kind": "raw", "points": [[1, 2, 3, 4]]}]}', "at most 3"),
        ('{"dimensions": 2, "primitives": [{"kind": "helix"}]}', "three-dimensional"),
        ('{"primitives": [{"kind": "circle"}], "transforms": [{"kind": "scale"}]}', "exactly one of factor"),
    ],
)
def test_an_answer_that_is_not_a_valid_spec_says_why(text: str, reason: str) -> None:
    with pytest.raises(SpecError, match=reason):
        parse_spec(text)


def test_an_unusable_answer_is_a_rejected_output_so_the_chain_falls_back() -> None:
    context = PointsContext(count=3)
    with pytest.raises(OutputRejectedError, match="asked for 3 points, got 2"):
        draw_answer('{"primitives": [{"kind": "raw", "points": [[0, 0], [1, 1]]}]}', context, cap=10)
    with pytest.raises(OutputRejectedError, match="over the cap of 10"):
        draw_answer('{"primitives": [{"kind": "grid", "rows": 4, "columns": 4}]}', PointsContext(), cap=10)


def test_a_valid_answer_is_drawn_under_the_context() -> None:
    drawing = draw_answer('{"primitives": [{"kind": "circle", "radius": 1}]}', PointsContext(count=4, radius=2), 10)
    assert drawing.points == [[2.0, 0.0], [0.0, 2.0], [-2.0, 0.0], [0.0, -2.0]]
    assert drawing.exact
