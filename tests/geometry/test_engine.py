"""The engine's rules for a request's context, several primitives, raw points and transforms."""

from __future__ import annotations

import math

import pytest

from gateway.geometry.engine import Constraints, draw, render
from gateway.geometry.snap import snap
from gateway.geometry.spec import Spec, SpecError


def spec(*primitives: dict[str, object], **rest: object) -> Spec:
    return Spec.model_validate({"primitives": list(primitives), **rest})


def test_the_context_count_is_shared_among_shapes_in_proportion() -> None:
    # Given two concentric circles of 8 and 16 points
    two = spec({"kind": "circle", "count": 8, "radius": 1}, {"kind": "circle", "count": 16, "radius": 2})
    # When 12 points are asked for
    drawing = draw(two, Constraints(count=12), 1000)
    # Then the small circle gets 4 and the large one 8
    assert [p.count for p in drawing.spec.primitives] == [4, 8]
    assert len(drawing.points) == 12


def test_the_context_radius_sizes_the_first_round_shape_and_keeps_proportions() -> None:
    two = spec({"kind": "circle", "radius": 1}, {"kind": "star", "radius": 2, "inner_radius": 1})
    drawing = draw(two, Constraints(radius=10), 1000)
    circle, star = drawing.spec.primitives
    assert (getattr(circle, "radius", None), getattr(star, "radius", None)) == (10, 20)
    assert getattr(star, "inner_radius", None) == 10


def test_the_context_center_moves_the_whole_drawing_after_its_transforms() -> None:
    # Given a circle the model placed with a translate
    moved = spec({"kind": "circle", "count": 4}, transforms=[{"kind": "translate", "offset": [100, 100]}])
    # When the context pins the centre
    drawing = draw(moved, Constraints(center=[1, 2]), 1000)
    # Then the circle is centred there, and the returned spec draws the same points
    assert drawing.points == [[2.0, 2.0], [1.0, 3.0], [0.0, 2.0], [1.0, 1.0]]
    assert render(drawing.spec) == drawing.points


def test_area_shapes_span_the_context_bounds() -> None:
    bounds = Constraints(bounds_min=[0, 0], bounds_max=[4, 1])
    drawing = draw(spec({"kind": "grid", "rows": 2, "columns": 3}), bounds, 100)
    assert drawing.points == [[0, 0], [2, 0], [4, 0], [0, 1], [2, 1], [4, 1]]


def test_a_grid_whose_count_is_overridden_keeps_its_columns_when_it_can() -> None:
    drawing = draw(spec({"kind": "grid", "rows": 2, "columns": 5}), Constraints(count=15), 100)
    assert [(getattr(p, "columns", 0), getattr(p, "rows", 0)) for p in drawing.spec.primitives] == [(5, 3)]


def test_raw_points_are_thinned_to_the_count_and_clipped_but_never_exact() -> None:
    raw = spec({"kind": "raw", "points": [[i, 0] for i in range(10)]})
    drawing = draw(raw, Constraints(count=5, bounds_min=[0, -1], bounds_max=[5, 1]), 100)
    assert drawing.points == [[0, 0], [2, 0], [4, 0], [5, 0], [5, 0]]
    assert drawing.exact is False


def test_a_flat_shape_in_three_dimensions_lies_in_the_plane_of_its_centre() -> None:
    drawing = draw(spec({"kind": "polygon", "sides": 4, "radius": 1}), Constraints(center=[0, 0, 7]), 100)
    assert drawing.dimensions == 3
    assert {p[2] for p in drawing.points} == {7.0}


def test_rotations_about_an_axis_and_scales_compose_in_order() -> None:
    tilted = spec(
        {"kind": "line", "start": [0, 0], "end": [1, 0], "count": 2},
        transforms=[{"kind": "scale", "factor": 2}, {"kind": "rotate", "angle": 90, "axis": "y"}],
    )
    assert render(tilted) == [[0.0, 0.0, 0.0], [0.0, 0.0, -2.0]]


def test_angles_at_right_angles_come_out_as_exact_zeros() -> None:
    points = render(spec({"kind": "circle", "count": 4, "radius": 3}))
    assert points == [[3, 0], [0, 3], [-3, 0], [0, -3]]


def test_a_seeded_random_shape_is_the_same_every_time_and_differs_by_seed() -> None:
    def draw_seed(seed: int) -> list[list[float]]:
        return render(spec({"kind": "random_in_disc", "count": 20, "radius": 1, "seed": seed}))

    assert draw_seed(4) == draw_seed(4)
    assert draw_seed(4) != draw_seed(5)
    assert all(math.hypot(*p) <= 1 for p in draw_seed(4))


@pytest.mark.parametrize(
    ("shape", "constraints", "field"),
    [
        ({"kind": "circle", "radius": 50}, Constraints(bounds_min=[-1, -1], bounds_max=[1, 1]), "context.bounds"),
        ({"kind": "sphere"}, Constraints(dimensions=2), "context.dimensions"),
        ({"kind": "cube_grid"}, Constraints(bounds_min=[0, 0], bounds_max=[1, 1]), "context.dimensions"),
        ({"kind": "grid", "rows": 40, "columns": 40}, Constraints(), "prompt"),
    ],
)
def test_a_shape_that_cannot_be_drawn_as_asked_names_the_field(
    shape: dict[str, object], constraints: Constraints, field: str
) -> None:
    with pytest.raises(SpecError) as raised:
        draw(spec(shape), constraints, 1000)
    assert raised.value.field == field


@pytest.mark.parametrize(
    ("value", "scale", "snapped"),
    [
        (15.000000000000016, 30.0, 15.0),  # a hexagon of side 30
        (29.999999999999993, 30.0, 30.0),
        (2.13e-14, 100.0, 0.0),  # sin(180°) * 100: zero at the drawing's scale
        (-7.347880794884118e-15, 10.0, 0.0),
        (0.7500000000000001, 1.0, 0.75),
        (1.0000000000000098, 8.0, 1.0),
    ],
)
def test_a_value_a_few_ulps_from_a_simple_number_is_that_number(value: float, scale: float, snapped: float) -> None:
    assert snap(value, scale) == snapped


@pytest.mark.parametrize(
    ("value", "scale"),
    [
        (25.98076211353316, 30.0),  # 15√3: not a simple number, left exactly as computed
        (0.5, 1e12),  # small next to the drawing, but far more than a few ULPs of it from 0
        (2e-15, 1e-9),  # a tiny drawing keeps its tiny coordinates
        (15.00000000001, 30.0),  # off by more than float noise
    ],
)
def test_a_value_that_is_not_float_noise_is_left_alone(value: float, scale: float) -> None:
    assert snap(value, scale) == value


def test_exact_drawings_are_snapped_at_their_own_scale_and_raw_points_are_not() -> None:
    # Given a hexagon of side 30 (its radius computed from the side) and the same noisy values given raw
    hexagon = draw(spec({"kind": "polygon", "sides": 6, "side_length": 30}), Constraints(), 100)
    raw = draw(spec({"kind": "raw", "points": [[15.000000000000016, 2.13e-14], [30, 0]]}), Constraints(), 100)
    # Then the hexagon's vertices and radius are the simple numbers, and the model's own points are as given
    assert sorted(x for x, _ in hexagon.points) == [-30, -15, -15, 15, 15, 30]
    assert getattr(hexagon.spec.primitives[0], "radius", None) == 30.0
    assert render(hexagon.spec) == hexagon.points
    assert raw.points[0] == [15.000000000000016, 2.13e-14]


def test_a_context_radius_that_would_shrink_a_length_to_nothing_names_the_field() -> None:
    star = spec({"kind": "star", "radius": 4.9, "inner_radius": 1})
    with pytest.raises(SpecError) as raised:
        draw(star, Constraints(radius=5e-324), 100)
    assert raised.value.field == "context.radius"
    assert "inner_radius would be 0" in raised.value.message
