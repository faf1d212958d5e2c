"""The local parser: what it understands on its own, and when it must leave a prompt to a model."""

from __future__ import annotations

import pytest

from gateway.geometry.engine import render
from gateway.geometry.parser import parse_prompt


@pytest.mark.parametrize(
    "prompt",
    [
        "12 points on a circle of radius 5 except the top one",
        "a circle of radius 2 and radius 3",
        "a circle of width 10",
        "points on a circle and a square",
        "a smiley face",
        "3 circles of radius 2",
        "10 points on a disc",
        "a spiral from radius 1 to radius 5",
        "a circle of radius 1 m and 20 px",
        "",
    ],
)
def test_a_prompt_with_anything_it_cannot_place_is_not_understood(prompt: str) -> None:
    assert not parse_prompt(prompt).understood


def test_a_partial_reading_keeps_the_shape_and_names_the_words_it_ignored() -> None:
    parsed = parse_prompt("set 12 chairs around a circle of radius 2 in the garden")
    assert not parsed.understood
    assert parsed.unknown == ["chairs", "garden"]
    assert parsed.reason is None
    assert parsed.spec is not None
    assert len(render(parsed.spec)) == 12


def test_lengths_are_expressed_in_the_first_unit_the_prompt_names() -> None:
    parsed = parse_prompt("a rectangle 1 m by 50 cm")
    assert parsed.understood
    assert parsed.spec is not None
    assert parsed.spec.unit == "m"
    assert render(parsed.spec) == [[-0.5, -0.25], [0.5, -0.25], [0.5, 0.25], [-0.5, 0.25]]


@pytest.mark.parametrize(
    ("prompt", "count"),
    [("twenty-four points on a circle", 24), ("a hundred points on a sphere", 100), ("a dozen dots on a ring", 12)],
)
def test_numbers_may_be_written_as_words(prompt: str, count: int) -> None:
    parsed = parse_prompt(prompt)
    assert parsed.understood
    assert parsed.spec is not None
    assert len(render(parsed.spec)) == count


def test_centre_spellings_and_the_origin_are_understood() -> None:
    for prompt in ("a circle centred at (1, 2)", "a circle centered on (1, 2)", "a circle with center (1, 2)"):
        parsed = parse_prompt(prompt)
        assert parsed.understood, prompt
        assert parsed.spec is not None
        assert parsed.spec.primitives[0].center == [1, 2], prompt


@pytest.mark.parametrize(
    ("prompt", "count", "radius", "side"),
    [
        ("10 points on a circle of radius 100 for the garden lights", 10, 100, None),  # a shape, unknown words
        ("the 6 corners of a honeycomb cell with sides of 2 cm", 6, None, 2),  # no shape named
        ("8 points around the origin with radius 2", 8, 2, None),
        ("two concentric circles of radius 1 and 2, 8 points each", None, None, None),  # conflicting radii
        ("5 circles with 10 points each", None, None, None),  # a number it could not place
        ("a circle with 10 points per quadrant", None, None, None),  # a count per part, not the total
        ("five rows of 10 points", None, None, None),  # rows of what shape? 10 is not the total
    ],
)
def test_the_numbers_a_prompt_states_are_read_only_when_the_parser_is_sure_of_them(
    prompt: str, count: int | None, radius: float | None, side: float | None
) -> None:
    numbers = parse_prompt(prompt).numbers
    assert (numbers.count, numbers.radius, numbers.side_length) == (count, radius, side)


@pytest.mark.parametrize(
    "prompt",
    [
        "Generate 10 points in a circle",
        "10 points arranged in a circle of radius 5",
        "place 8 points in a circular pattern with radius 3",
        "12 points in a circle of radius 5 centered at 1, 2",
    ],
)
def test_in_a_circle_is_its_outline(prompt: str) -> None:
    parsed = parse_prompt(prompt)
    assert parsed.understood, (parsed.unknown, parsed.reason)
    assert parsed.spec is not None
    assert parsed.spec.primitives[0].kind == "circle"


def test_random_points_in_a_circle_are_inside_it_and_points_inside_a_circle_are_left_to_a_model() -> None:
    parsed = parse_prompt("10 random points in a circle of radius 2")
    assert parsed.spec is not None
    assert parsed.spec.primitives[0].kind == "random_in_disc"
    assert not parse_prompt("10 points inside a circle of radius 2").understood
