"""The geometry engine: a spec in, exact points out. Pure Python and `math`, deterministic.

`resolve` applies a request's constraints to a spec and fills every default, so the spec it returns
draws the same points again; `render` draws a resolved (or any valid) spec.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pydantic import ValidationError

from gateway.geometry.snap import snap, snap_points
from gateway.geometry.spec import (
    MAX_COORDINATE,
    Arc,
    Circle,
    CubeGrid,
    Ellipse,
    Grid,
    Helix,
    Line,
    Polygon,
    Polyline,
    Primitive,
    RandomInDisc,
    RandomInRectangle,
    Raw,
    Rotate,
    Scale,
    Spec,
    SpecError,
    Sphere,
    Spiral,
    Star,
    Transform,
    Translate,
    describe,
    natural_dimensions,
)

P3 = tuple[float, float, float]
DEFAULT_COUNTS = {"circle": 12, "arc": 12, "ellipse": 12, "spiral": 50, "random_in_rectangle": 100}
DEFAULT_COUNTS |= {"random_in_disc": 100, "sphere": 100, "helix": 50, "line": 2}
GOLDEN_ANGLE = math.pi * (3 - math.sqrt(5))
# Relative tolerance for "on the bounds": float rounding must not turn an exact shape into a 422.
BOUNDS_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Constraints:
    """What the request's context pins down; each overrides what the spec says."""

    count: int | None = None
    center: Sequence[float] | None = None
    radius: float | None = None
    bounds_min: Sequence[float] | None = None
    bounds_max: Sequence[float] | None = None
    dimensions: int | None = None


@dataclass(frozen=True)
class Drawing:
    spec: Spec
    points: list[list[float]]
    dimensions: int
    exact: bool
    warnings: list[str]


def draw(spec: Spec, constraints: Constraints, max_points: int) -> Drawing:
    """Resolve `spec` under `constraints`, render it and check it; SpecError when it cannot be drawn as asked."""
    warnings: list[str] = []
    try:
        resolved = resolve(spec, constraints, warnings)
    except ValidationError as exc:  # an override took a value out of range (a centre at 1e300)
        raise SpecError(f"the context cannot be applied: {describe(exc)}", "context") from None
    total = sum(point_count(p) for p in resolved.primitives)
    if total > max_points:
        raise SpecError(f"the shape has {total} points, over the cap of {max_points}", "prompt")
    dims = resolved.dimensions or 2
    points = [list(p[:dims]) for p in render_points(resolved)]
    if any(not math.isfinite(v) for point in points for v in point):
        raise SpecError("the shape's coordinates overflow")
    if resolved.exact:
        points = snap_points(points)
    if constraints.bounds_min is not None and constraints.bounds_max is not None:
        low, high = list(constraints.bounds_min), list(constraints.bounds_max)
        if resolved.exact:
            _check_bounds(points, low, high)
        else:  # raw points are clipped to the asked bounds; they were never exact
            points = [[min(max(v, lo), hi) for v, lo, hi in zip(p, low, high, strict=False)] for p in points]
    return Drawing(resolved, [[v + 0.0 for v in p] for p in points], dims, resolved.exact, warnings)


def render(spec: Spec) -> list[list[float]]:
    """The points of a spec, each [x, y] or [x, y, z] by the spec's dimensions."""
    dims = spec.dimensions or natural_dimensions(spec)
    points = [[v + 0.0 for v in p[:dims]] for p in render_points(spec)]
    return snap_points(points) if spec.exact else points


def render_points(spec: Spec) -> list[P3]:
    points = [p for primitive in spec.primitives for p in _DRAW[primitive.kind](complete(primitive))]
    for transform in spec.transforms:
        points = _transform(transform, points)
    return points


# --------------------------------------------------------------------------- resolving constraints


def resolve(spec: Spec, constraints: Constraints, warnings: list[str] | None = None) -> Spec:
    """The spec with the constraints applied and every default filled in."""
    notes = warnings if warnings is not None else []
    natural = natural_dimensions(spec)
    asked = constraints.dimensions
    if asked is None:
        pinned = [v for v in (constraints.center, constraints.bounds_min) if v is not None]
        asked = len(pinned[0]) if pinned else None
    if asked == 2 and natural == 3:
        raise SpecError("the shape is three-dimensional but two dimensions were asked", "context.dimensions")
    dims = max(natural, asked or 2, spec.dimensions or 2)
    primitives = [complete(p) for p in spec.primitives]
    if constraints.bounds_min is not None and constraints.bounds_max is not None:
        primitives = [_fit_bounds(p, constraints.bounds_min, constraints.bounds_max) for p in primitives]
    if constraints.radius is not None:
        primitives = _with_radius(primitives, constraints.radius / uniform_scale(spec.transforms), notes)
    if constraints.count is not None:
        primitives = _distribute(primitives, constraints.count)
    transforms = list(spec.transforms)
    if constraints.center is not None:
        if all(isinstance(t, Translate) for t in transforms):
            transforms = []  # plain moves, superseded by the centre: the primitives are moved there instead
        where = _transform_all(transforms, [_pad(anchor(primitives[0]))])[0]
        target = _pad(constraints.center)
        offset = [t - a for t, a in zip(target, where, strict=True)]
        if any(offset) and transforms:
            transforms.append(Translate(offset=offset[:dims]))
        elif any(offset):  # no transforms: move the primitives themselves, so the spec reads plainly
            primitives = [_shift(p, offset) for p in primitives]
    return Spec(dimensions=dims, unit=spec.unit, primitives=primitives, transforms=transforms)


def complete(p: Primitive) -> Primitive:
    """The primitive with every default spelled out (so the returned spec says exactly what was drawn)."""
    center = p.center or [0.0, 0.0]
    match p:
        case Circle():
            return p.model_copy(update=_fill(p, count=12, center=center, radius=1.0, start_angle=0.0, clockwise=False))
        case Arc():
            return p.model_copy(update=_fill(p, count=12, center=center, radius=1.0, start_angle=0.0, end_angle=180.0))
        case Ellipse():
            rx = p.radius_x or p.radius_y or 1.0
            ry = p.radius_y or p.radius_x or 1.0
            fill = _fill(p, count=12, center=center, rotation=0.0, start_angle=0.0, clockwise=False)
            return p.model_copy(update={**fill, "radius_x": rx, "radius_y": ry})
        case Polygon():
            sides = p.sides or 6
            radius = p.radius or (snap(p.side_length / (2 * math.sin(math.pi / sides))) if p.side_length else 1.0)
            fill = _fill(p, count=sides, center=center, start_angle=270 - 180 / sides, clockwise=False)
            return p.model_copy(update={**fill, "sides": sides, "radius": radius, "side_length": None})
        case Star():
            sides = p.sides or 5
            radius = p.radius or 1.0
            inner = p.inner_radius or radius * _star_ratio(sides)
            if inner >= radius:
                raise SpecError("a star's inner_radius must be smaller than its radius")
            fill = _fill(p, count=2 * sides, center=center, start_angle=90.0, clockwise=False)
            return p.model_copy(update={**fill, "sides": sides, "radius": radius, "inner_radius": inner})
        case Line():
            start = p.start or [0.0, 0.0]
            end = p.end or ([start[0] + 1.0, *start[1:]])
            return p.model_copy(update={"count": p.count or 2, "start": start, "end": end, "center": None})
        case Polyline():
            at_vertices = p.count is None if p.at_vertices is None else p.at_vertices
            count = len(p.vertices) if at_vertices else p.count or len(p.vertices)
            path = {"count": count, "closed": bool(p.closed), "at_vertices": at_vertices, "center": None}
            return p.model_copy(update=path)
        case Grid():
            rows, columns = p.rows, p.columns
            if rows is None and columns is None and p.count:
                rows, columns = _factor2(p.count)
            elif rows is None or columns is None:
                rows, columns = rows or columns or 3, columns or rows or 3
            update: dict[str, Any] = {"rows": rows, "columns": columns}
            if p.min_corner is None:
                update |= {"center": center, "spacing": p.spacing or 1.0}
            else:
                update |= {"center": None, "spacing": None}
            grid = p.model_copy(update=update)
            return grid.model_copy(update={"count": point_count(grid)})
        case CubeGrid():
            cells = (p.columns, p.rows, p.layers)
            if all(c is None for c in cells) and p.count:
                columns, rows, layers = _factor3(p.count)
            else:
                columns, rows, layers = (c or 2 for c in cells)
            cube_update: dict[str, Any] = {"rows": rows, "columns": columns, "layers": layers}
            if p.min_corner is None:
                cube_update |= {"center": _pad(center), "spacing": p.spacing or 1.0}
            else:
                cube_update |= {"center": None, "spacing": None}
            cube = p.model_copy(update=cube_update)
            return cube.model_copy(update={"count": point_count(cube)})
        case Spiral():
            radius = p.radius or 1.0
            fill = _fill(p, count=50, center=center, inner_radius=0.0, turns=3.0, start_angle=0.0, clockwise=False)
            return p.model_copy(update={**fill, "radius": radius})
        case RandomInRectangle():
            low, high = (p.min_corner, p.max_corner) if p.min_corner is not None else ([0.0, 0.0], [1.0, 1.0])
            box = {"min_corner": low, "max_corner": high, "center": None}
            return p.model_copy(update={"count": p.count or 100, "seed": p.seed or 0, **box})
        case RandomInDisc():
            return p.model_copy(update=_fill(p, count=100, center=center, radius=1.0, seed=0))
        case Sphere():
            return p.model_copy(update=_fill(p, count=100, center=_pad(center), radius=1.0))
        case Helix():
            turns = p.turns or 3.0
            fill = _fill(p, count=50, center=_pad(center), radius=1.0, start_angle=0.0, clockwise=False)
            return p.model_copy(update={**fill, "turns": turns, "height": turns if p.height is None else p.height})
        case Raw():
            return p.model_copy(update={"count": len(p.points), "center": None})
    raise SpecError(f"unknown primitive {p.kind}")  # pragma: no cover - the union is exhaustive


def _shift(p: Primitive, offset: list[float]) -> Primitive:
    def moved(v: Sequence[float] | None) -> list[float] | None:
        if v is None:
            return None
        out = [a + b for a, b in zip(_pad(v), offset, strict=True)]
        if any(abs(c) > MAX_COORDINATE for c in out):
            raise SpecError(f"the centre moves a point of the shape past {MAX_COORDINATE:g}", "context.center")
        return out if len(v) == 3 or offset[2] else out[:2]

    update: dict[str, object] = {}
    for name in ("center", "start", "end", "min_corner", "max_corner"):
        if getattr(p, name, None) is not None:
            update[name] = moved(getattr(p, name))
    for name in ("vertices", "points"):
        if getattr(p, name, None) is not None:
            update[name] = [moved(v) for v in getattr(p, name)]
    return p.model_copy(update=update)


def _fill(p: Primitive, **defaults: Any) -> dict[str, Any]:
    return {name: default if getattr(p, name) is None else getattr(p, name) for name, default in defaults.items()}


def point_count(p: Primitive) -> int:
    """How many points a completed primitive draws, without drawing it."""
    match p:
        case Grid():
            return (p.rows or 1) * (p.columns or 1)
        case CubeGrid():
            return (p.rows or 1) * (p.columns or 1) * (p.layers or 1)
        case Raw():
            return len(p.points)
    return p.count or DEFAULT_COUNTS.get(p.kind, 1)


def _star_ratio(tips: int) -> float:
    # The regular star polygon {n/2} (a pentagram for 5 tips); too flat below 5 tips, so half.
    return math.cos(2 * math.pi / tips) / math.cos(math.pi / tips) if tips >= 5 else 0.5


def anchor(p: Primitive) -> list[float]:
    """Where a primitive is: its centre, or the middle of its extent."""
    match p:
        case Line():
            return _box_middle([p.start or [0.0, 0.0], p.end or [1.0, 0.0]])
        case Polyline():
            return _box_middle(p.vertices)
        case Raw():
            return _box_middle(p.points)
        case Grid() | CubeGrid() | RandomInRectangle() if p.min_corner is not None and p.max_corner is not None:
            return [(a + b) / 2 for a, b in zip(_pad(p.min_corner), _pad(p.max_corner), strict=True)]
    return list(p.center or [0.0, 0.0])


def _box_middle(vectors: Sequence[Sequence[float]]) -> list[float]:
    padded = [_pad(v) for v in vectors]
    return [(min(c) + max(c)) / 2 for c in zip(*padded, strict=True)]


def _fit_bounds(p: Primitive, low: Sequence[float], high: Sequence[float]) -> Primitive:
    """Area primitives span the asked bounds; every other primitive is only checked against them."""
    if isinstance(p, Grid | RandomInRectangle):
        if len(low) == 3 and isinstance(p, Grid):  # a flat grid in a box: its middle plane
            middle = (low[2] + high[2]) / 2
            low, high = [*low[:2], middle], [*high[:2], middle]
        return p.model_copy(update={"min_corner": list(low), "max_corner": list(high), "center": None, "spacing": None})
    if isinstance(p, CubeGrid):
        if len(low) != 3:
            raise SpecError("a cube grid needs three-dimensional bounds", "context.bounds")
        return p.model_copy(update={"min_corner": list(low), "max_corner": list(high), "center": None, "spacing": None})
    return p


def radius_of(p: Primitive) -> float | None:
    """A round primitive's size (an ellipse's larger semi-axis, a polygon's circumradius); None for the others."""
    match p:
        case Ellipse():
            return max(p.radius_x or 1.0, p.radius_y or 1.0)
        case Circle() | Arc() | Polygon() | Star() | Spiral() | RandomInDisc() | Sphere() | Helix():
            return p.radius
    return None


def _with_radius(primitives: list[Primitive], radius: float, warnings: list[str]) -> list[Primitive]:
    """The first round primitive gets `radius`; every other round one scales with it (keeping proportions)."""
    sized = [r for r in (radius_of(p) for p in primitives) if r is not None]
    if not sized:
        warnings.append("context.radius does not apply to this shape and was ignored")
        return primitives
    out: list[Primitive] = []
    for p in primitives:
        update: dict[str, object] = {}
        for name in ("radius", "inner_radius", "radius_x", "radius_y"):
            value = getattr(p, name, None)
            if value is not None:
                scaled = value / sized[0] * radius  # exactly `radius` for the first; radius / first can underflow
                if not math.isfinite(scaled) or (value > 0 and scaled <= 0):
                    problem = f"context.radius {radius:g} cannot size this shape: its {name} would be {scaled:g}"
                    raise SpecError(problem, "context.radius")
                update[name] = scaled
        out.append(p.model_copy(update=update) if update and radius_of(p) is not None else p)
    return out


def _distribute(primitives: list[Primitive], total: int) -> list[Primitive]:
    """Share `total` points among the primitives in proportion to what each would draw."""
    if total < len(primitives):
        raise SpecError(f"{total} points cannot draw {len(primitives)} shapes", "context.count")
    natural = [point_count(p) for p in primitives]
    weight = sum(natural)
    exact = [total * n / weight for n in natural]
    shares = [max(1, math.floor(e)) for e in exact]
    # Largest remainder; then take back from the largest shares if the minimum of 1 overshot.
    order = sorted(range(len(shares)), key=lambda i: exact[i] - math.floor(exact[i]), reverse=True)
    for i in order[: max(0, total - sum(shares))]:
        shares[i] += 1
    while sum(shares) > total:
        shares[shares.index(max(shares))] -= 1
    return [_with_count(p, n) for p, n in zip(primitives, shares, strict=True)]


def _with_count(p: Primitive, n: int) -> Primitive:
    match p:
        case Grid():
            rows, columns = p.rows or 1, p.columns or 1
            if rows * columns != n:
                if n % columns == 0:
                    rows = n // columns
                elif n % rows == 0:
                    columns = n // rows
                else:
                    rows, columns = _factor2(n)
            return p.model_copy(update={"rows": rows, "columns": columns, "count": n})
        case CubeGrid():
            columns, rows, layers = p.columns or 1, p.rows or 1, p.layers or 1
            if columns * rows * layers != n:
                if n % (columns * rows) == 0:
                    layers = n // (columns * rows)
                else:
                    columns, rows, layers = _factor3(n)
            return p.model_copy(update={"rows": rows, "columns": columns, "layers": layers, "count": n})
        case Polyline() if p.at_vertices and n != len(p.vertices):
            return p.model_copy(update={"at_vertices": False, "count": n})
        case Raw():
            if n > len(p.points):
                raise SpecError(f"asked for {n} points, got {len(p.points)}")
            picked = [p.points[i * len(p.points) // n] for i in range(n)]
            return p.model_copy(update={"points": picked, "count": n})
    return p.model_copy(update={"count": n})


def _factor2(n: int) -> tuple[int, int]:
    """(rows, columns) with rows * columns == n, as square as possible, columns >= rows."""
    rows = math.isqrt(n)
    while n % rows:
        rows -= 1
    return rows, n // rows


def _factor3(n: int) -> tuple[int, int, int]:
    """(columns, rows, layers) multiplying to n, as cubic as possible."""
    best = (n, 1, 1)
    for a in range(1, round(n ** (1 / 3)) + 2):
        if n % a == 0:
            b, c = _factor2(n // a)
            candidate = tuple(sorted((a, b, c), reverse=True))
            if max(candidate) - min(candidate) < max(best) - min(best):
                best = (candidate[0], candidate[1], candidate[2])
    return best


def uniform_scale(transforms: Sequence[Transform]) -> float:
    """How much the transforms scale a length (the first factor of a per-axis scale)."""
    factor = 1.0
    for t in transforms:
        if isinstance(t, Scale):
            factor *= t.factor if t.factor is not None else abs((t.factors or [1.0])[0]) or 1.0
    return factor


def _check_bounds(points: list[list[float]], low: list[float], high: list[float]) -> None:
    scale = max(1.0, *(abs(v) for v in (*low, *high)))
    slack = BOUNDS_TOLERANCE * scale
    for index, point in enumerate(points):
        for axis, (v, lo, hi) in enumerate(zip(point, low, high, strict=False)):
            if not lo - slack <= v <= hi + slack:
                raise SpecError(f"point {index} ({'xyz'[axis]} = {v:g}) lies outside the bounds", "context.bounds")
            point[axis] = min(max(v, lo), hi)  # snap rounding noise onto the boundary


# --------------------------------------------------------------------------- drawing


def _pad(v: Sequence[float]) -> list[float]:
    return [float(v[0]), float(v[1]), float(v[2]) if len(v) > 2 else 0.0]


def _p3(v: Sequence[float]) -> P3:
    return (float(v[0]), float(v[1]), float(v[2]) if len(v) > 2 else 0.0)


def cos_sin(degrees: float) -> tuple[float, float]:
    """cos and sin of an angle in degrees, exact at multiples of 90 (no 6e-17 where 0 is meant)."""
    turn = degrees % 360.0
    if turn == 360.0:  # a tiny negative angle wraps to exactly 360.0 in floating point
        turn = 0.0
    if turn % 90.0 == 0.0:
        return {0.0: (1.0, 0.0), 90.0: (0.0, 1.0), 180.0: (-1.0, 0.0), 270.0: (0.0, -1.0)}[turn]
    rad = math.radians(turn)
    return math.cos(rad), math.sin(rad)


def _on_circle(c: Sequence[float], r: float, degrees: float) -> P3:
    cos, sin = cos_sin(degrees)
    return (c[0] + r * cos, c[1] + r * sin, c[2] if len(c) > 2 else 0.0)


def _circle(p: Primitive) -> list[P3]:
    assert isinstance(p, Circle)
    c, r, n = p.center or [0.0, 0.0], p.radius or 1.0, p.count or 12
    step = -360.0 if p.clockwise else 360.0
    return [_on_circle(c, r, (p.start_angle or 0.0) + step * i / n) for i in range(n)]


def _arc(p: Primitive) -> list[P3]:
    assert isinstance(p, Arc)
    c, r, n = p.center or [0.0, 0.0], p.radius or 1.0, p.count or 12
    start = p.start_angle or 0.0
    end = 180.0 if p.end_angle is None else p.end_angle
    if n == 1:
        return [_on_circle(c, r, start)]
    return [_on_circle(c, r, start * (1 - i / (n - 1)) + end * (i / (n - 1))) for i in range(n)]


def _ellipse(p: Primitive) -> list[P3]:
    assert isinstance(p, Ellipse)
    c = _pad(p.center or [0.0, 0.0])
    a, b, n = p.radius_x or 1.0, p.radius_y or 1.0, p.count or 12
    t0 = math.radians(p.start_angle or 0.0)
    sign = -1.0 if p.clockwise else 1.0
    if a == b:
        params = [t0 + sign * 2 * math.pi * i / n for i in range(n)]
    else:
        table = _ellipse_table(a, b)
        s0 = table.length_at(t0 % (2 * math.pi))
        params = [table.param_at((s0 + sign * table.total * i / n) % table.total) for i in range(n)]
    cos_r, sin_r = cos_sin(p.rotation or 0.0)
    out = []
    for t in params:
        x, y = a * math.cos(t), b * math.sin(t)
        out.append((c[0] + x * cos_r - y * sin_r, c[1] + x * sin_r + y * cos_r, c[2]))
    return out


def _polygon(p: Primitive) -> list[P3]:
    assert isinstance(p, Polygon)
    sides = p.sides or 6
    vertices = _regular(p.center or [0.0, 0.0], [p.radius or 1.0], sides, p.start_angle, bool(p.clockwise))
    return _along_equal_edges(vertices, p.count or sides)


def _star(p: Primitive) -> list[P3]:
    assert isinstance(p, Star)
    tips = p.sides or 5
    radius = p.radius or 1.0
    radii = [radius, p.inner_radius or radius * _star_ratio(tips)]
    vertices = _regular(p.center or [0.0, 0.0], radii, 2 * tips, p.start_angle or 90.0, bool(p.clockwise))
    return _along_equal_edges(vertices, p.count or 2 * tips)


def _regular(c: Sequence[float], radii: list[float], n: int, start: float | None, clockwise: bool) -> list[P3]:
    first = 270 - 360 / n / 2 if start is None else start
    step = -360.0 if clockwise else 360.0
    return [_on_circle(c, radii[k % len(radii)], first + step * k / n) for k in range(n)]


def _along_equal_edges(vertices: list[P3], n: int) -> list[P3]:
    """n points at equal spacing around a closed outline whose edges are all the same length.

    Integer arithmetic places each point (edge index and fraction), so vertices come out exact.
    """
    m = len(vertices)
    out = []
    for k in range(n):
        edge, rest = divmod(k * m, n)
        a, b = vertices[edge], vertices[(edge + 1) % m]
        out.append(_lerp(a, b, rest / n))
    return out


def _lerp(a: Sequence[float], b: Sequence[float], t: float) -> P3:
    if t == 0:
        return _p3(a)
    return (a[0] * (1 - t) + b[0] * t, a[1] * (1 - t) + b[1] * t, a[2] * (1 - t) + b[2] * t)


def _line(p: Primitive) -> list[P3]:
    assert isinstance(p, Line)
    start = _pad(p.start or [0.0, 0.0])
    end = _pad(p.end) if p.end is not None else [start[0] + 1.0, start[1], start[2]]
    n = p.count or 2
    if n == 1:
        return [_p3(start)]
    return [_lerp(start, end, i / (n - 1)) for i in range(n)]


def _polyline(p: Primitive) -> list[P3]:
    assert isinstance(p, Polyline)
    vertices = [_pad(v) for v in p.vertices]
    if p.at_vertices or (p.at_vertices is None and p.count is None):
        return [_p3(v) for v in vertices]
    if p.closed:
        vertices.append(vertices[0])
    n = p.count or len(p.vertices)
    lengths = [math.dist(a, b) for a, b in itertools.pairwise(vertices)]
    cumulative = [0.0]
    for length in lengths:
        cumulative.append(cumulative[-1] + length)
    total = cumulative[-1]
    if total == 0:
        return [_p3(vertices[0])] * n
    slots = n if p.closed else max(n - 1, 1)
    out = []
    for i in range(n):
        target = total * i / slots
        edge = min(bisect.bisect_right(cumulative, target) - 1, len(lengths) - 1)
        while edge > 0 and lengths[edge] == 0:
            edge -= 1
        into = target - cumulative[edge]
        t = 1.0 if i == n - 1 and not p.closed else (into / lengths[edge] if lengths[edge] else 0.0)
        out.append(_lerp(vertices[edge], vertices[edge + 1], min(max(t, 0.0), 1.0)))
    return out


def _axis_values(count: int, low: float | None, high: float | None, center: float, spacing: float) -> list[float]:
    if low is not None and high is not None:
        if count == 1:
            return [(low + high) / 2]
        return [low * (1 - i / (count - 1)) + high * (i / (count - 1)) for i in range(count)]
    return [center + (i - (count - 1) / 2) * spacing for i in range(count)]


def _at(v: list[float] | None, axis: int) -> float | None:
    return None if v is None else v[axis]


def _grid(p: Primitive) -> list[P3]:
    assert isinstance(p, Grid)
    low = _pad(p.min_corner) if p.min_corner is not None else None
    high = _pad(p.max_corner) if p.max_corner is not None else None
    c = _pad(p.center or [0.0, 0.0])
    s = p.spacing or 1.0
    xs = _axis_values(p.columns or 3, _at(low, 0), _at(high, 0), c[0], s)
    ys = _axis_values(p.rows or 3, _at(low, 1), _at(high, 1), c[1], s)
    z = low[2] if low is not None else c[2]
    return [(x, y, z) for y in ys for x in xs]


def _cube_grid(p: Primitive) -> list[P3]:
    assert isinstance(p, CubeGrid)
    low = _pad(p.min_corner) if p.min_corner is not None else None
    high = _pad(p.max_corner) if p.max_corner is not None else None
    c = _pad(p.center or [0.0, 0.0, 0.0])
    s = p.spacing or 1.0
    xs = _axis_values(p.columns or 2, _at(low, 0), _at(high, 0), c[0], s)
    ys = _axis_values(p.rows or 2, _at(low, 1), _at(high, 1), c[1], s)
    zs = _axis_values(p.layers or 2, _at(low, 2), _at(high, 2), c[2], s)
    return [(x, y, z) for z in zs for y in ys for x in xs]


def _spiral(p: Primitive) -> list[P3]:
    """Archimedean r = a + b*theta; points at equal arc length, both ends included."""
    assert isinstance(p, Spiral)
    c = _pad(p.center or [0.0, 0.0])
    outer, inner, turns = p.radius or 1.0, p.inner_radius or 0.0, p.turns or 3.0
    n = p.count or 50
    b = (outer - inner) / (2 * math.pi * turns)
    start = math.radians(p.start_angle or 0.0)
    sign = -1.0 if p.clockwise else 1.0

    def arc(r: float) -> float:  # arc length from the centre to radius r, in closed form
        root = math.hypot(r, b)
        return (r * root + b * b * math.asinh(r / b)) / (2 * b)

    base, total = arc(inner), arc(outer) - arc(inner)
    out = []

    def slope(r: float) -> float:
        return math.hypot(r, b) / b

    out_r: list[float] = []

    for i in range(n):
        target = base + (total * i / (n - 1) if n > 1 else 0.0)

        def gap(r: float, target: float = target) -> float:
            return arc(r) - target

        r = _solve(gap, slope, inner, outer, guess=out_r[-1] if out_r else inner)
        out_r.append(r)
        theta = start + sign * (r - inner) / b
        out.append((c[0] + r * math.cos(theta), c[1] + r * math.sin(theta), c[2]))
    return out


def _random_in_rectangle(p: Primitive) -> list[P3]:
    assert isinstance(p, RandomInRectangle)
    low = p.min_corner or [0.0, 0.0]
    high = p.max_corner or [1.0, 1.0]
    rng = random.Random(p.seed or 0)
    dims = len(low)
    out = []
    for _ in range(p.count or 100):
        coords = [lo + (hi - lo) * rng.random() for lo, hi in zip(low, high, strict=True)]
        out.append(_p3(coords if dims == 3 else [*coords, 0.0]))
    return out


def _random_in_disc(p: Primitive) -> list[P3]:
    assert isinstance(p, RandomInDisc)
    c = _pad(p.center or [0.0, 0.0])
    radius = p.radius or 1.0
    rng = random.Random(p.seed or 0)
    out = []
    for _ in range(p.count or 100):
        r, theta = radius * math.sqrt(rng.random()), 2 * math.pi * rng.random()
        out.append((c[0] + r * math.cos(theta), c[1] + r * math.sin(theta), c[2]))
    return out


def _sphere(p: Primitive) -> list[P3]:
    assert isinstance(p, Sphere)
    c = _pad(p.center or [0.0, 0.0, 0.0])
    radius, n = p.radius or 1.0, p.count or 100
    out = []
    for i in range(n):
        z = 1 - (2 * i + 1) / n
        ring = math.sqrt(max(0.0, 1 - z * z))
        phi = GOLDEN_ANGLE * i
        out.append((c[0] + radius * ring * math.cos(phi), c[1] + radius * ring * math.sin(phi), c[2] + radius * z))
    return out


def _helix(p: Primitive) -> list[P3]:
    assert isinstance(p, Helix)
    c = _pad(p.center or [0.0, 0.0, 0.0])
    radius, turns, n = p.radius or 1.0, p.turns or 3.0, p.count or 50
    height = turns if p.height is None else p.height
    sign = -1.0 if p.clockwise else 1.0
    out = []
    for i in range(n):
        t = i / (n - 1) if n > 1 else 0.0
        x, y, _ = _on_circle(c, radius, (p.start_angle or 0.0) + sign * 360.0 * turns * t)
        out.append((x, y, c[2] + height * t))
    return out


def _raw(p: Primitive) -> list[P3]:
    assert isinstance(p, Raw)
    return [_p3(v) for v in p.points]


_DRAW: dict[str, Callable[[Primitive], list[P3]]] = {
    "circle": _circle,
    "arc": _arc,
    "ellipse": _ellipse,
    "polygon": _polygon,
    "star": _star,
    "line": _line,
    "polyline": _polyline,
    "grid": _grid,
    "spiral": _spiral,
    "random_in_rectangle": _random_in_rectangle,
    "random_in_disc": _random_in_disc,
    "sphere": _sphere,
    "helix": _helix,
    "cube_grid": _cube_grid,
    "raw": _raw,
}


# --------------------------------------------------------------------------- transforms


def _transform(t: Transform, points: list[P3]) -> list[P3]:
    match t:
        case Translate():
            dx, dy, dz = _pad(t.offset)
            return [(x + dx, y + dy, z + dz) for x, y, z in points]
        case Scale():
            ox, oy, oz = _pad(t.about or [0.0, 0.0])
            sx, sy, sz = (t.factor,) * 3 if t.factor is not None else _pad([*(t.factors or [1.0, 1.0]), 1.0][:3])
            if t.factor is None and t.factors is not None and len(t.factors) == 2:
                sz = 1.0
            return [(ox + (x - ox) * sx, oy + (y - oy) * sy, oz + (z - oz) * sz) for x, y, z in points]
        case Rotate():
            ox, oy, oz = _pad(t.about or [0.0, 0.0])
            cos, sin = cos_sin(t.angle)
            out = []
            for x, y, z in points:
                u, v, w = x - ox, y - oy, z - oz
                if t.axis in (None, "z"):
                    u, v = u * cos - v * sin, u * sin + v * cos
                elif t.axis == "x":
                    v, w = v * cos - w * sin, v * sin + w * cos
                else:
                    w, u = w * cos - u * sin, w * sin + u * cos
                out.append((ox + u, oy + v, oz + w))
            return out
    raise SpecError("unknown transform")  # pragma: no cover


def _transform_all(transforms: Sequence[Transform], points: list[list[float]]) -> list[list[float]]:
    moved = [_p3(p) for p in points]
    for t in transforms:
        moved = _transform(t, moved)
    return [list(p) for p in moved]


# --------------------------------------------------------------------------- numerics


def _solve(
    f: Callable[[float], float], df: Callable[[float], float], low: float, high: float, guess: float | None = None
) -> float:
    """The root of an increasing f in [low, high]: Newton steps from `guess`, kept inside a shrinking bracket."""
    x = low if guess is None else min(max(guess, low), high)
    for _ in range(100):
        fx = f(x)
        if fx == 0:
            return x
        if fx < 0:
            low = x
        else:
            high = x
        step = fx / df(x) if df(x) else 0.0
        nxt = x - step
        if not low <= nxt <= high or step == 0:
            nxt = (low + high) / 2
        if abs(nxt - x) <= 1e-15 * max(1.0, abs(x)):
            return nxt
        x = nxt
    return x


def _gauss_legendre(n: int) -> list[tuple[float, float]]:
    nodes = []
    for i in range(1, n + 1):
        x = math.cos(math.pi * (i - 0.25) / (n + 0.5))
        for _ in range(100):
            p0, p1 = 1.0, x
            for k in range(2, n + 1):
                p0, p1 = p1, ((2 * k - 1) * x * p1 - (k - 1) * p0) / k
            dp = n * (x * p1 - p0) / (x * x - 1)
            dx = p1 / dp
            x -= dx
            if abs(dx) < 1e-16:
                break
        nodes.append((x, 2 / ((1 - x * x) * dp * dp)))
    return nodes


_GL = _gauss_legendre(12)


def _integrate(f: Callable[[float], float], a: float, b: float) -> float:
    half, mid = (b - a) / 2, (a + b) / 2
    return half * sum(w * f(mid + half * x) for x, w in _GL)


class _EllipseTable:
    """Cumulative arc length of (a cos t, b sin t) on an adaptive grid of t, for inverting by Newton."""

    def __init__(self, a: float, b: float) -> None:
        self.speed: Callable[[float], float] = lambda t: math.hypot(a * math.sin(t), b * math.cos(t))
        self.knots = [0.0]
        self.lengths = [0.0]
        tolerance = 1e-14 * (a + b)
        stack = [(0.0, 2 * math.pi)]
        pieces: list[tuple[float, float, float]] = []
        while stack:
            lo, hi = stack.pop()
            whole = _integrate(self.speed, lo, hi)
            mid = (lo + hi) / 2
            left, right = _integrate(self.speed, lo, mid), _integrate(self.speed, mid, hi)
            if abs(left + right - whole) <= tolerance or hi - lo < 1e-6:
                pieces.append((lo, hi, left + right))
            else:
                stack.extend([(mid, hi), (lo, mid)])
        for _, hi, length in sorted(pieces):
            self.knots.append(hi)
            self.lengths.append(self.lengths[-1] + length)
        self.total = self.lengths[-1]

    def length_at(self, t: float) -> float:
        i = max(0, min(bisect.bisect_right(self.knots, t) - 1, len(self.knots) - 2))
        return self.lengths[i] + _integrate(self.speed, self.knots[i], t)

    def param_at(self, s: float) -> float:
        i = max(0, min(bisect.bisect_right(self.lengths, s) - 1, len(self.lengths) - 2))
        lo, hi = self.knots[i], self.knots[i + 1]
        base, piece = self.lengths[i], self.lengths[i + 1] - self.lengths[i]
        guess = lo + (hi - lo) * (s - base) / piece if piece else lo
        return _solve(lambda t: base + _integrate(self.speed, lo, t) - s, self.speed, lo, hi, guess)


@lru_cache(maxsize=64)
def _ellipse_table(a: float, b: float) -> _EllipseTable:
    return _EllipseTable(a, b)
