"""The prompt table, through the engine (the spec each prompt means) and through the local parser."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.geometry.engine import Constraints, draw
from gateway.geometry.parser import parse_prompt
from gateway.geometry.prompt_numbers import hold
from gateway.geometry.spec import Spec
from tests.geometry import checks
from tests.geometry.cases import CASES, Case

CAP = 1000


def constraints(context: dict[str, Any]) -> Constraints:
    bounds = context.get("bounds") or {}
    return Constraints(
        count=context.get("count"),
        center=context.get("center"),
        radius=context.get("radius"),
        bounds_min=bounds.get("min"),
        bounds_max=bounds.get("max"),
        dimensions=context.get("dimensions"),
    )


def test_the_table_has_at_least_sixty_prompts_and_most_are_for_the_parser() -> None:
    assert len(CASES) >= 60
    assert sum(case.parser for case in CASES) >= 60


@pytest.mark.parametrize("case", CASES, ids=[c.prompt for c in CASES])
def test_the_engine_draws_the_spec_of_each_prompt_exactly(case: Case) -> None:
    # Given the spec the prompt means, and the request's context
    spec = Spec.model_validate(case.spec)
    # When the engine draws it
    drawing = draw(spec, constraints(case.context), CAP)
    # Then count, distance to the shape, spacing and bounds hold to 1e-9
    assert checks.failures(drawing.points, case.checks) == []
    assert drawing.exact


@pytest.mark.parametrize("case", [c for c in CASES if c.parser], ids=[c.prompt for c in CASES if c.parser])
def test_the_local_parser_reads_each_prompt_to_the_same_exact_geometry(case: Case) -> None:
    # Given a prompt the local parser should understand on its own
    parsed = parse_prompt(case.prompt)
    # Then it understands every word of it
    assert parsed.understood, (parsed.unknown, parsed.reason)
    assert parsed.spec is not None
    # and its spec draws the same exact geometry
    drawing = draw(parsed.spec, constraints(case.context), CAP)
    assert checks.failures(drawing.points, case.checks) == []


@pytest.mark.parametrize("case", [c for c in CASES if not c.parser], ids=[c.prompt for c in CASES if not c.parser])
def test_the_local_parser_leaves_prompts_it_cannot_fully_read_to_a_model(case: Case) -> None:
    assert not parse_prompt(case.prompt).understood


@pytest.mark.parametrize("case", CASES[:20], ids=[c.prompt for c in CASES[:20]])
def test_the_returned_spec_draws_the_same_points_again(case: Case) -> None:
    # Given an answer's resolved spec (what a client gets back)
    first = draw(Spec.model_validate(case.spec), constraints(case.context), CAP)
    # When it is drawn again, with no context at all
    again = draw(Spec.model_validate(first.spec.model_dump(exclude_none=True)), Constraints(), CAP)
    # Then the points are the same
    assert again.points == first.points


@pytest.mark.parametrize("case", CASES, ids=[c.prompt for c in CASES])
def test_a_prompts_own_numbers_never_reject_the_spec_it_means(case: Case) -> None:
    # Given the spec a prompt means (what a good model answers), and the numbers the parser reads from the prompt
    numbers = parse_prompt(case.prompt).numbers
    # When the spec is held to them
    spec, held = hold(Spec.model_validate(case.spec), numbers, constraints(case.context))
    # Then it is not refused, and draws the same exact geometry
    assert checks.failures(draw(spec, held, CAP).points, case.checks) == []


@pytest.mark.parametrize("case", CASES, ids=[c.prompt for c in CASES])
def test_exact_points_are_free_of_float_noise(case: Case) -> None:
    # Given an exact drawing of each prompt
    points = draw(Spec.model_validate(case.spec), constraints(case.context), CAP).points
    scale = max(abs(v) for point in points for v in point)
    # Then a coordinate within 1e-12 of the drawing's size from a multiple of a thousandth is that multiple
    for value in (v for point in points for v in point):
        nearest = round(value * 1000) / 1000
        if abs(value - nearest) <= 1e-12 * scale:
            assert value == nearest, (value, nearest)
