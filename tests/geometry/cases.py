"""The prompt table: what each prompt means as a spec, and the exact geometry its points must have.

Rows with `parser=True` are prompts the local parser must understand on its own; the others need a
model (two shapes, a tilt about an axis, a shape described by what it is for). `bench/geometry.py`
measures the parser's coverage of this table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from tests.geometry import checks as g


@dataclass(frozen=True)
class Case:
    prompt: str
    spec: dict[str, Any]
    checks: list[g.Check]
    context: dict[str, Any] = field(default_factory=dict)
    parser: bool = True


def one(**primitive: Any) -> dict[str, Any]:
    return {"primitives": [primitive]}


S3 = math.sqrt(3)
HEX_SIDE_5 = 5.0  # a regular hexagon's circumradius equals its side
SQUARE_SIDE_2_R = math.sqrt(2)
STAR5 = math.cos(2 * math.pi / 5) / math.cos(math.pi / 5)  # the pentagram's inner/outer ratio

CASES: list[Case] = [
    # circles
    Case("12 points evenly spaced on a circle of radius 100 centred at (50, -20)",
         one(kind="circle", count=12, radius=100, center=[50, -20]), g.circle((50, -20), 100, 12)),
    Case("8 points on a unit circle", one(kind="circle", count=8, radius=1), g.circle((0, 0), 1, 8)),
    Case("a circle of radius 5 with 6 points", one(kind="circle", count=6, radius=5), g.circle((0, 0), 5, 6)),
    Case("twenty points on a circle of diameter 10 around (1, 1)",
         one(kind="circle", count=20, radius=5, center=[1, 1]), g.circle((1, 1), 5, 20)),
    Case("a dozen points on a ring of radius 3", one(kind="circle", count=12, radius=3), g.circle((0, 0), 3, 12)),
    Case("16 points on a circle of radius 2 m centered at the origin",
         {**one(kind="circle", count=16, radius=2), "unit": "m"}, g.circle((0, 0), 2, 16)),
    Case("5 points on a circle of radius 10 starting at 90 degrees",
         one(kind="circle", count=5, radius=10, start_angle=90), g.circle((0, 0), 10, 5, start=90)),
    Case("10 points clockwise on a circle of radius 4",
         one(kind="circle", count=10, radius=4, clockwise=True), g.circle((0, 0), 4, 10, clockwise=True)),
    Case("7 points on a circle of radius 1.5 centered at (2, 3, 4)",
         one(kind="circle", count=7, radius=1.5, center=[2, 3, 4]), g.circle((2, 3, 4), 1.5, 7, dims=3)),
    Case("12 points on a circle of radius 50 cm", {**one(kind="circle", count=12, radius=50), "unit": "cm"},
         g.circle((0, 0), 50, 12)),
    Case("6 points on a circle", one(kind="circle", count=6), g.circle((1, 2), 7, 9),
         context={"count": 9, "radius": 7, "center": [1, 2]}),
    Case("a circle with 30 points", one(kind="circle", count=30), g.circle((0, 0, 5), 2, 30, dims=3),
         context={"radius": 2, "center": [0, 0, 5], "dimensions": 3}),
    # arcs
    Case("7 points on a semicircle of radius 5",
         one(kind="arc", count=7, radius=5, start_angle=0, end_angle=180), g.arc((0, 0), 5, 7, 0, 180)),
    Case("5 points on a quarter circle of radius 2",
         one(kind="arc", count=5, radius=2, start_angle=0, end_angle=90), g.arc((0, 0), 2, 5, 0, 90)),
    Case("9 points on an arc of radius 10 from 30 to 150 degrees",
         one(kind="arc", count=9, radius=10, start_angle=30, end_angle=150), g.arc((0, 0), 10, 9, 30, 150)),
    Case("an arc of radius 3 from 0 to 270 degrees with 10 points centered at (1, -1)",
         one(kind="arc", count=10, radius=3, start_angle=0, end_angle=270, center=[1, -1]),
         g.arc((1, -1), 3, 10, 0, 270)),
    Case("a 60 degree arc of radius 6 with 4 points",
         one(kind="arc", count=4, radius=6, start_angle=0, end_angle=60), g.arc((0, 0), 6, 4, 0, 60)),
    Case("a half circle of radius 1 with 3 points starting at 90 degrees",
         one(kind="arc", count=3, radius=1, start_angle=90, end_angle=270), g.arc((0, 0), 1, 3, 90, 270)),
    # ellipses
    Case("16 points on an ellipse with radii 5 and 3",
         one(kind="ellipse", count=16, radius_x=5, radius_y=3), g.ellipse((0, 0), 5, 3, 16)),
    Case("an ellipse 10 wide and 4 tall with 12 points",
         one(kind="ellipse", count=12, radius_x=5, radius_y=2), g.ellipse((0, 0), 5, 2, 12)),
    Case("20 points on an ellipse with semi-axes 8 and 2 rotated by 30 degrees",
         one(kind="ellipse", count=20, radius_x=8, radius_y=2, rotation=30), g.ellipse((0, 0), 8, 2, 20, 30)),
    Case("an oval 6 by 2 with 8 points centered at (3, 3)",
         one(kind="ellipse", count=8, radius_x=3, radius_y=1, center=[3, 3]), g.ellipse((3, 3), 3, 1, 8)),
    # regular polygons
    Case("the vertices of a regular hexagon of radius 10", one(kind="polygon", sides=6, radius=10),
         g.polygon((0, 0), 10, 6)),
    Case("a square with side 2", one(kind="polygon", sides=4, side_length=2), g.polygon((0, 0), SQUARE_SIDE_2_R, 4)),
    Case("8 points along the edges of a square with side 2", one(kind="polygon", sides=4, side_length=2, count=8),
         g.polygon((0, 0), SQUARE_SIDE_2_R, 4, n=8)),
    Case("a triangle of radius 1", one(kind="polygon", sides=3, radius=1), g.polygon((0, 0), 1, 3)),
    Case("12 points along the perimeter of a pentagon of radius 5", one(kind="polygon", sides=5, radius=5, count=12),
         g.polygon((0, 0), 5, 5, n=12)),
    Case("an octagon of radius 3 centered at (10, 10)", one(kind="polygon", sides=8, radius=3, center=[10, 10]),
         g.polygon((10, 10), 3, 8)),
    Case("a regular polygon with 9 sides and radius 4", one(kind="polygon", sides=9, radius=4),
         g.polygon((0, 0), 4, 9)),
    Case("a 7-sided polygon of radius 2 rotated by 10 degrees",
         one(kind="polygon", sides=7, radius=2, start_angle=270 - 180 / 7 + 10),
         g.polygon((0, 0), 2, 7, start=270 - 180 / 7 + 10)),
    Case("24 points on the outline of a hexagon with side length 5",
         one(kind="polygon", sides=6, side_length=5, count=24), g.polygon((0, 0), HEX_SIDE_5, 6, n=24)),
    Case("a decagon of radius 1", one(kind="polygon", sides=10, radius=1), g.polygon((0, 0), 1, 10)),
    Case("a hexagon", one(kind="polygon", sides=6), g.polygon((0, 0), 3, 6, n=18), context={"radius": 3, "count": 18}),
    # stars
    Case("a 5-pointed star of radius 10", one(kind="star", sides=5, radius=10), g.star((0, 0), 10, 10 * STAR5, 5)),
    Case("a star with 6 points, radius 4 and inner radius 2", one(kind="star", sides=6, radius=4, inner_radius=2),
         g.star((0, 0), 4, 2, 6)),
    Case("20 points along a 5-pointed star of radius 5", one(kind="star", sides=5, radius=5, count=20),
         g.star((0, 0), 5, 5 * STAR5, 5, n=20)),
    Case("a pentagram of radius 1 centered at (2, 2)", one(kind="star", sides=5, radius=1, center=[2, 2]),
         g.star((2, 2), 1, STAR5, 5)),
    # lines
    Case("5 points between (0,0) and (10,0)", one(kind="line", count=5, start=[0, 0], end=[10, 0]),
         g.line((0, 0), (10, 0), 5)),
    Case("11 points from (1, 1) to (2, 3)", one(kind="line", count=11, start=[1, 1], end=[2, 3]),
         g.line((1, 1), (2, 3), 11)),
    Case("ten points on a line of length 9", one(kind="line", count=10, start=[-4.5, 0], end=[4.5, 0]),
         g.line((-4.5, 0), (4.5, 0), 10)),
    Case("a line segment from (0, 0, 0) to (3, 4, 12) with 4 points",
         one(kind="line", count=4, start=[0, 0, 0], end=[3, 4, 12]), g.line((0, 0, 0), (3, 4, 12), 4)),
    Case("2 points between (-5, 5) and (5, -5)", one(kind="line", count=2, start=[-5, 5], end=[5, -5]),
         g.line((-5, 5), (5, -5), 2)),
    Case("a line of 6 points", one(kind="line", count=6), g.line((4.5, 2), (5.5, 2), 6), context={"center": [5, 2]}),
    # paths
    Case("a triangle with vertices (0,0), (4,0), (0,3)",
         one(kind="polyline", vertices=[[0, 0], [4, 0], [0, 3]], closed=True),
         [g.same_points([(0, 0), (4, 0), (0, 3)])]),
    Case("12 points along a path through (0,0), (3,0), (3,4)",
         one(kind="polyline", vertices=[[0, 0], [3, 0], [3, 4]], count=12),
         g.path([(0, 0), (3, 0), (3, 4)], 12, closed=False)),
    Case("a closed path through (0,0), (2,0), (2,2), (0,2) with 16 points",
         one(kind="polyline", vertices=[[0, 0], [2, 0], [2, 2], [0, 2]], closed=True, count=16),
         g.path([(0, 0), (2, 0), (2, 2), (0, 2)], 16, closed=True)),
    Case("a rectangle 10 by 5",
         one(kind="polyline", vertices=[[-5, -2.5], [5, -2.5], [5, 2.5], [-5, 2.5]], closed=True),
         [g.same_points([(-5, -2.5), (5, -2.5), (5, 2.5), (-5, 2.5)], 5)]),
    Case("12 points along a 10 by 5 rectangle",
         one(kind="polyline", vertices=[[-5, -2.5], [5, -2.5], [5, 2.5], [-5, 2.5]], closed=True, count=12),
         g.path([(-5, -2.5), (5, -2.5), (5, 2.5), (-5, 2.5)], 12, closed=True)),
    Case("a rectangle from (0,0) to (4,2) with 6 points",
         one(kind="polyline", vertices=[[0, 0], [4, 0], [4, 2], [0, 2]], closed=True, count=6),
         g.path([(0, 0), (4, 0), (4, 2), (0, 2)], 6, closed=True)),
    # grids
    Case("a grid of 5 by 4", one(kind="grid", columns=5, rows=4), g.lattice(g.centred(0, 1, 5), g.centred(0, 1, 4))),
    Case("a 3x3 grid with spacing 10", one(kind="grid", columns=3, rows=3, spacing=10),
         g.lattice([-10, 0, 10], [-10, 0, 10])),
    Case("a grid of 4 by 3 points between (0,0) and (6,4)",
         one(kind="grid", columns=4, rows=3, min_corner=[0, 0], max_corner=[6, 4]),
         g.lattice([0, 2, 4, 6], [0, 2, 4])),
    Case("a 2 by 2 grid centered at (5, 5) with spacing 2",
         one(kind="grid", columns=2, rows=2, center=[5, 5], spacing=2),
         g.lattice([4, 6], [4, 6])),
    Case("a grid with 3 rows and 6 columns", one(kind="grid", columns=6, rows=3),
         g.lattice(g.centred(0, 1, 6), g.centred(0, 1, 3))),
    Case("a 10x10 grid in [0, 1] x [0, 1]", one(kind="grid", columns=10, rows=10, min_corner=[0, 0], max_corner=[1, 1]),
         g.lattice(g.spread(0, 1, 10), g.spread(0, 1, 10))),
    Case("a grid of 12 points", one(kind="grid", count=12), g.lattice(g.spread(0, 30, 4), g.spread(0, 20, 3)),
         context={"bounds": {"min": [0, 0], "max": [30, 20]}}),
    Case("a grid of 3 by 2 rotated by 90 degrees",
         {**one(kind="grid", columns=3, rows=2), "transforms": [{"kind": "rotate", "angle": 90, "about": [0, 0]}]},
         [g.same_points([(-y, x) for y in (-0.5, 0.5) for x in (-1, 0, 1)])]),
    # spirals
    Case("an archimedean spiral with 3 turns and radius 10, 30 points",
         one(kind="spiral", turns=3, radius=10, count=30), g.spiral((0, 0), 10, 3, 30)),
    Case("a spiral with inner radius 1, outer radius 6, 4 turns and 25 points",
         one(kind="spiral", inner_radius=1, radius=6, turns=4, count=25), g.spiral((0, 0), 6, 4, 25, inner=1)),
    Case("a clockwise spiral of radius 8 with 5 turns and 50 points centered at (2, 1)",
         one(kind="spiral", radius=8, turns=5, count=50, clockwise=True, center=[2, 1]),
         g.spiral((2, 1), 8, 5, 50, clockwise=True)),
    # random
    Case("20 random points in a 10 by 5 rectangle with seed 7",
         one(kind="random_in_rectangle", count=20, min_corner=[-5, -2.5], max_corner=[5, 2.5], seed=7),
         g.random_box((-5, -2.5), (5, 2.5), 20, 7)),
    Case("50 random points inside a circle of radius 3 with seed 1",
         one(kind="random_in_disc", count=50, radius=3, seed=1), g.random_disc((0, 0), 3, 50, 1)),
    Case("100 random points in [0, 10] x [0, 5]",
         one(kind="random_in_rectangle", count=100, min_corner=[0, 0], max_corner=[10, 5]),
         g.random_box((0, 0), (10, 5), 100, 0)),
    Case("30 points scattered at random in the unit square, seed 3",
         one(kind="random_in_rectangle", count=30, min_corner=[0, 0], max_corner=[1, 1], seed=3),
         g.random_box((0, 0), (1, 1), 30, 3)),
    Case("15 random points in a disc of radius 2 centered at (1, 1)",
         one(kind="random_in_disc", count=15, radius=2, center=[1, 1]), g.random_disc((1, 1), 2, 15, 0)),
    Case("40 random points in a box from (0, 0, 0) to (1, 2, 3) with seed 5",
         one(kind="random_in_rectangle", count=40, min_corner=[0, 0, 0], max_corner=[1, 2, 3], seed=5),
         g.random_box((0, 0, 0), (1, 2, 3), 40, 5)),
    # in space
    Case("100 points on a sphere of radius 5", one(kind="sphere", count=100, radius=5), g.sphere((0, 0, 0), 5, 100)),
    Case("a fibonacci sphere of 50 points with radius 2 centered at (1, 2, 3)",
         one(kind="sphere", count=50, radius=2, center=[1, 2, 3]), g.sphere((1, 2, 3), 2, 50)),
    Case("a helix of radius 2 with 3 turns and height 10, 30 points",
         one(kind="helix", radius=2, turns=3, height=10, count=30), g.helix((0, 0, 0), 2, 10, 3, 30)),
    Case("a helix with radius 1, pitch 2 and 4 turns, 41 points",
         one(kind="helix", radius=1, turns=4, height=8, count=41), g.helix((0, 0, 0), 1, 8, 4, 41)),
    Case("a 3x3x3 cube grid with spacing 2", one(kind="cube_grid", columns=3, rows=3, layers=3, spacing=2),
         g.lattice([-2, 0, 2], [-2, 0, 2], [-2, 0, 2])),
    Case("the 8 corners of a unit cube", one(kind="cube_grid", min_corner=[0, 0, 0], max_corner=[1, 1, 1], count=8),
         g.lattice([0, 1], [0, 1], [0, 1])),
    Case("a cube grid of 4 x 4 x 2 points between (0,0,0) and (3,3,1)",
         one(kind="cube_grid", columns=4, rows=4, layers=2, min_corner=[0, 0, 0], max_corner=[3, 3, 1]),
         g.lattice([0, 1, 2, 3], [0, 1, 2, 3], [0, 1])),
    Case("a 3d grid of 27 points", one(kind="cube_grid", count=27), g.lattice([-1, 0, 1], [-1, 0, 1], [-1, 0, 1])),
    Case("a sphere", one(kind="sphere"), g.sphere((0, 0, 10), 10, 64),
         context={"count": 64, "radius": 10, "center": [0, 0, 10]}),
    # how new users phrase it (issue 16): "in a circle" is its outline, as "in a triangle"; bare centre coordinates
    Case("Generate 10 points in a circle", one(kind="circle", count=10), g.circle((0, 0), 100, 10),
         context={"radius": 100, "center": [0, 0]}),
    Case("10 points arranged in a circle of radius 5", one(kind="circle", count=10, radius=5), g.circle((0, 0), 5, 10)),
    Case("12 points in a circle of radius 5 centered at 1, 2", one(kind="circle", count=12, radius=5, center=[1, 2]),
         g.circle((1, 2), 5, 12)),
    Case("place 8 points in a circular pattern with radius 3", one(kind="circle", count=8, radius=3),
         g.circle((0, 0), 3, 8)),
    Case("Generate 12 points in a circular formation with radius 50", one(kind="circle", count=12, radius=50),
         g.circle((0, 0), 50, 12)),
    Case("a circle made of 10 points with radius 2", one(kind="circle", count=10, radius=2), g.circle((0, 0), 2, 10)),
    Case("distribute 6 points evenly on a circle of radius 4", one(kind="circle", count=6, radius=4),
         g.circle((0, 0), 4, 6)),
    Case("10 points around a circle of radius 2", one(kind="circle", count=10, radius=2), g.circle((0, 0), 2, 10)),
    Case("20 points along a circle of radius 10 centred at (5, 5)",
         one(kind="circle", count=20, radius=10, center=[5, 5]), g.circle((5, 5), 10, 20)),
    Case("16 points in a square with side 4", one(kind="polygon", sides=4, side_length=4, count=16),
         g.polygon((0, 0), 2 * math.sqrt(2), 4, n=16)),
    Case("8 points around a hexagon of radius 3", one(kind="polygon", sides=6, radius=3, count=8),
         g.polygon((0, 0), 3, 6, n=8)),
    Case("10 random points in a circle of radius 2 with seed 4",
         one(kind="random_in_disc", count=10, radius=2, seed=4), g.random_disc((0, 0), 2, 10, 4)),
    # shapes only a model can read: two shapes, tilts about an axis, shapes named by what they are for
    Case("the 6 corners of a honeycomb cell with sides of 2 cm",
         {**one(kind="polygon", sides=6, side_length=2), "unit": "cm"}, g.polygon((0, 0), 2, 6), parser=False),
    Case("two concentric circles of radius 1 and 2, 8 points each",
         {"primitives": [{"kind": "circle", "count": 8, "radius": 1}, {"kind": "circle", "count": 8, "radius": 2}]},
         [g.count(16, 2), g.distance("two circles", lambda p: min(abs(math.hypot(*p) - 1), abs(math.hypot(*p) - 2)))],
         parser=False),
    Case("a circle of radius 3 tilted 90 degrees about the x axis, 8 points",
         {**one(kind="circle", count=8, radius=3), "transforms": [{"kind": "rotate", "angle": 90, "axis": "x"}]},
         [g.count(8, 3), g.distance("xz circle", lambda p: abs(math.hypot(p[0], p[2]) - 3) + abs(p[1]), 3)],
         parser=False),
    Case("a dial: 12 ticks like the hours on a clock face of radius 10",
         one(kind="circle", count=12, radius=10, start_angle=90, clockwise=True),
         g.circle((0, 0), 10, 12, start=90, clockwise=True), parser=False),
    Case("8 points around the origin with radius 2", one(kind="circle", count=8, radius=2), g.circle((0, 0), 2, 8),
         parser=False),
    Case("5 points in a row, 1 apart", one(kind="line", count=5, start=[-2, 0], end=[2, 0]), g.line((-2, 0), (2, 0), 5),
         parser=False),
    Case("the corners of a 4 metre square table, doubled in size",
         {**one(kind="polygon", sides=4, side_length=4), "transforms": [{"kind": "scale", "factor": 2}], "unit": "m"},
         g.polygon((0, 0), 8 / math.sqrt(2), 4), parser=False),
]  # fmt: skip
