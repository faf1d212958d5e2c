"""The numbers a prompt states (how many points, a radius, a side), held against a model's spec.

The local parser reads them even from a prompt it cannot fully understand ("10 points on a circle of radius 5 for
the garden lights"). A model's spec keeps them as it keeps the request's context: a value the spec leaves out is
filled in from the prompt, and a value the spec states otherwise is a contradiction (`SpecError`: the answer is
`invalid_output` and the next provider is tried). The request's context wins over the prompt: a number the
context pins is not held against the prompt's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from gateway.geometry.engine import Constraints, complete, point_count, radius_of, uniform_scale
from gateway.geometry.spec import (
    CubeGrid,
    Ellipse,
    Grid,
    Polygon,
    Polyline,
    Primitive,
    Raw,
    Spec,
    SpecError,
)
from gateway.geometry.vocabulary import UNIT_NAMES

TOLERANCE = 1e-9  # relative: a spec's length is the prompt's when it agrees to this


@dataclass(frozen=True)
class PromptNumbers:
    """What the prompt says in numbers; None where it says nothing (or nothing the parser could be sure of)."""

    count: int | None = None
    radius: float | None = None
    side_length: float | None = None
    unit: str | None = None  # the unit the lengths are in, when the prompt names one

    def describe(self, pinned: Constraints) -> list[str]:
        """The prompt's numbers the context does not pin, as `name: value` for a model's instructions."""
        said = {"count": self.count, "radius": self.radius, "side_length": self.side_length}
        if pinned.count is not None:
            said["count"] = None
        if pinned.radius is not None:
            said["radius"] = said["side_length"] = None
        return [f"{name}: {value:g}" for name, value in said.items() if value is not None]


def hold(spec: Spec, numbers: PromptNumbers, pinned: Constraints) -> tuple[Spec, Constraints]:
    """The spec and constraints to draw a model's answer with; SpecError when the spec contradicts the prompt."""
    constraints = pinned
    if numbers.count is not None and pinned.count is None:
        constraints = _hold_count(spec, numbers.count, constraints)
    same_unit = numbers.unit is None or spec.unit is None or _unit(numbers.unit) == _unit(spec.unit)
    if same_unit and pinned.radius is None:
        if numbers.radius is not None:
            constraints = _hold_radius(spec, numbers.radius, constraints)
        if numbers.side_length is not None:
            spec = _hold_side(spec, numbers.side_length)
    return spec, constraints


def _hold_count(spec: Spec, count: int, constraints: Constraints) -> Constraints:
    drawn = sum(point_count(complete(p)) for p in spec.primitives)
    if all(_states_count(p) for p in spec.primitives):
        if drawn != count:
            raise SpecError(f"the spec draws {drawn} points but the prompt asks for {count}")
        return constraints
    return replace(constraints, count=count)


def _states_count(p: Primitive) -> bool:
    """Whether the model said how many points this primitive draws (a raw list is thinned, as for context.count)."""
    match p:
        case Grid():
            return p.count is not None or (p.rows is not None and p.columns is not None)
        case CubeGrid():
            return p.count is not None or None not in (p.rows, p.columns, p.layers)
        case Raw():
            return False
        case Polyline():
            return p.count is not None or bool(p.at_vertices)
    return p.count is not None


def _hold_radius(spec: Spec, radius: float, constraints: Constraints) -> Constraints:
    round_ = next((p for p in spec.primitives if radius_of(complete(p)) is not None), None)
    if round_ is None:
        return constraints  # nothing round to size: the prompt's radius says nothing about this spec
    if not _states_size(round_):
        return replace(constraints, radius=radius)
    stated = (radius_of(complete(round_)) or 0.0) * uniform_scale(spec.transforms)
    if not math.isclose(stated, radius, rel_tol=TOLERANCE):
        raise SpecError(f"the spec's radius is {stated:g} but the prompt says {radius:g}")
    return constraints


def _hold_side(spec: Spec, side: float) -> Spec:
    index = next((i for i, p in enumerate(spec.primitives) if isinstance(p, Polygon)), None)
    if index is None:
        return spec  # no regular polygon: a side length has nothing to check
    polygon = spec.primitives[index]
    assert isinstance(polygon, Polygon)
    if not _states_size(polygon):
        primitives = list(spec.primitives)
        primitives[index] = polygon.model_copy(update={"side_length": side})
        return spec.model_copy(update={"primitives": primitives})
    drawn = complete(polygon)
    assert isinstance(drawn, Polygon)
    sides, circumradius = drawn.sides or 6, drawn.radius or 1.0
    stated = 2 * circumradius * math.sin(math.pi / sides) * uniform_scale(spec.transforms)
    if not math.isclose(stated, side, rel_tol=TOLERANCE):
        raise SpecError(f"the spec's side is {stated:g} but the prompt says {side:g}")
    return spec


def _states_size(p: Primitive) -> bool:
    if isinstance(p, Ellipse):
        return p.radius_x is not None or p.radius_y is not None
    if isinstance(p, Polygon):
        return p.radius is not None or p.side_length is not None
    return getattr(p, "radius", None) is not None


def _unit(name: str) -> str:
    key = name.strip().lower().replace("metre", "meter")
    return UNIT_NAMES.get(key, key)
