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
