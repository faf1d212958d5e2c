"""Independent geometry for the prompt table: what each shape's points must be, from first principles.

Each oracle returns checks (count, distance to the shape, spacing, bounds, first/last points) written
from the textbook definition of the shape, not from the engine, and tight to TOL.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

TOL = 1e-9
Pt = Sequence[float]
Points = list[list[float]]


@dataclass(frozen=True)
class Check:
    name: str
    test: Callable[[Points], str | None]  # None when it holds, else what is wrong


def failures(points: Points, checks: Sequence[Check]) -> list[str]:
    """Every check that does not hold, with why."""
    out = []
    for check in checks:
        problem = check.test(points)
        if problem is not None:
            out.append(f"{check.name}: {problem}")
    return out


def _pad(p: Pt) -> tuple[float, float, float]:
    return (p[0], p[1], p[2] if len(p) > 2 else 0.0)


def _worst(values: Sequence[float], limit: float = TOL) -> str | None:
    worst = max(values, default=0.0)
    return None if worst <= limit else f"off by {worst:.3g}"


def count(n: int, dims: int) -> Check:
    def test(points: Points) -> str | None:
        if len(points) != n:
            return f"{len(points)} points, not {n}"
        if any(len(p) != dims for p in points):
            return f"not every point has {dims} coordinates"
        return None

    return Check("count", test)


def distance(name: str, to_shape: Callable[[Pt], float], scale: float = 1.0) -> Check:
    return Check(f"on the {name}", lambda points: _worst([to_shape(p) for p in points], TOL * max(1.0, scale)))


def within(low: Pt, high: Pt) -> Check:
    def test(points: Points) -> str | None:
        for p in points:
            for v, lo, hi in zip(p, low, high, strict=False):
                if not lo - TOL <= v <= hi + TOL:
                    return f"{p} outside {list(low)}..{list(high)}"
        return None

    return Check("within bounds", test)


def same_points(expected: Sequence[Pt], scale: float = 1.0) -> Check:
    def test(points: Points) -> str | None:
        if len(points) != len(expected):
            return f"{len(points)} points, not {len(expected)}"
        return _worst([math.dist(_pad(p), _pad(e)) for p, e in zip(points, expected, strict=True)], TOL * scale)

    return Check("the expected points, in order", test)


def point_at(index: int, expected: Pt, scale: float = 1.0) -> Check:
    def test(points: Points) -> str | None:
        gap = math.dist(_pad(points[index]), _pad(expected))
        return None if gap <= TOL * max(1.0, scale) else f"point {index} is {points[index]}, not {list(expected)}"

    return Check(f"point {index}", test)


def equal_steps(
    step: Callable[[Pt, Pt], float], closed: bool, expected: float | None = None, scale: float = 1.0
) -> Check:
    """Consecutive points (and last to first when closed) are the same `step` apart."""

    def test(points: Points) -> str | None:
        pairs = list(itertools.pairwise(points)) + ([(points[-1], points[0])] if closed else [])
        gaps = [step(a, b) for a, b in pairs]
        target = expected if expected is not None else gaps[0]
        return _worst([abs(g - target) for g in gaps], TOL * max(1.0, scale))

    return Check("equal spacing", test)


def chord(a: Pt, b: Pt) -> float:
    return math.dist(_pad(a), _pad(b))


# --------------------------------------------------------------------------- oracles, one per shape


def circle(center: Pt, r: float, n: int, start: float = 0.0, clockwise: bool = False, dims: int = 2) -> list[Check]:
    c = _pad(center)
    sign = -1 if clockwise else 1
    first = (c[0] + r * math.cos(math.radians(start)), c[1] + r * math.sin(math.radians(start)), c[2])
    second_angle = math.radians(start + sign * 360 / n)
    second = (c[0] + r * math.cos(second_angle), c[1] + r * math.sin(second_angle), c[2])
    return [
        count(n, dims),
        distance("circle", lambda p: abs(math.hypot(p[0] - c[0], p[1] - c[1]) - r) + abs(_pad(p)[2] - c[2]), r),
        equal_steps(chord, closed=True, expected=2 * r * math.sin(math.pi / n), scale=r),
        point_at(0, first[:dims], r),
        point_at(1 % n, (first if n == 1 else second)[:dims], r),
        within([c[0] - r, c[1] - r, c[2]][:dims], [c[0] + r, c[1] + r, c[2]][:dims]),
    ]


def arc(center: Pt, r: float, n: int, start: float, end: float) -> list[Check]:
    c = _pad(center)

    def at(deg: float) -> tuple[float, float]:
        return c[0] + r * math.cos(math.radians(deg)), c[1] + r * math.sin(math.radians(deg))

    step = 2 * r * math.sin(math.radians(abs(end - start)) / (n - 1) / 2)
    return [
        count(n, 2),
        distance("circle", lambda p: abs(math.hypot(p[0] - c[0], p[1] - c[1]) - r), r),
        equal_steps(chord, closed=False, expected=step, scale=r),
        point_at(0, at(start), r),
        point_at(n - 1, at(end), r),
    ]


def _simpson(f: Callable[[float], float], a: float, b: float, m: int = 2000) -> float:
    h = (b - a) / m
    total = f(a) + f(b) + sum((4 if i % 2 else 2) * f(a + i * h) for i in range(1, m))
    return total * h / 3


def ellipse(center: Pt, a: float, b: float, n: int, rotation: float = 0.0) -> list[Check]:
    c = _pad(center)
    cos_r, sin_r = math.cos(math.radians(rotation)), math.sin(math.radians(rotation))

    def local(p: Pt) -> tuple[float, float]:
        x, y = p[0] - c[0], p[1] - c[1]
        return x * cos_r + y * sin_r, -x * sin_r + y * cos_r

    def param(p: Pt) -> float:
        u, v = local(p)
        return math.atan2(v / b, u / a) % (2 * math.pi)

    def arc_between(p: Pt, q: Pt) -> float:  # counter-clockwise arc length from p to q
        t0, t1 = param(p), param(q)
        t1 = t1 if t1 > t0 else t1 + 2 * math.pi
        return _simpson(lambda t: math.hypot(a * math.sin(t), b * math.cos(t)), t0, t1)

    perimeter = _simpson(lambda t: math.hypot(a * math.sin(t), b * math.cos(t)), 0, 2 * math.pi, 20000)
    first = (c[0] + a * cos_r, c[1] + a * sin_r)
    return [
        count(n, 2),
        distance("ellipse", lambda p: abs(math.hypot(local(p)[0] / a, local(p)[1] / b) - 1) * min(a, b), max(a, b)),
        equal_steps(arc_between, closed=True, expected=perimeter / n, scale=max(a, b)),
        point_at(0, first, max(a, b)),
    ]


def _segment_distance(p: Pt, a: Pt, b: Pt) -> float:
    p3, a3, b3 = _pad(p), _pad(a), _pad(b)
    ab = [y - x for x, y in zip(a3, b3, strict=True)]
    length2 = sum(v * v for v in ab)
    along = sum((q - x) * v for q, x, v in zip(p3, a3, ab, strict=True))
    t = 0.0 if length2 == 0 else max(0.0, min(1.0, along / length2))
    return math.dist(p3, [x + t * v for x, v in zip(a3, ab, strict=True)])


def _path_position(p: Pt, vertices: Sequence[Pt], closed: bool) -> float:
    """How far along the path the point lies (on the nearest edge)."""
    edges = list(itertools.pairwise(vertices)) + ([(vertices[-1], vertices[0])] if closed else [])
    travelled, best, best_gap = 0.0, 0.0, math.inf
    for a, b in edges:
        gap = _segment_distance(p, a, b)
        if gap < best_gap - 1e-12:
            best_gap, best = gap, travelled + chord(a, p)
        travelled += chord(a, b)
    return best


def _path_length(vertices: Sequence[Pt], closed: bool) -> float:
    edges = list(itertools.pairwise(vertices)) + ([(vertices[-1], vertices[0])] if closed else [])
    return sum(chord(a, b) for a, b in edges)


def path(vertices: Sequence[Pt], n: int, closed: bool, dims: int = 2) -> list[Check]:
    """n points spread at equal distance along a path, starting at its first vertex."""
    total = _path_length(vertices, closed)
    scale = max(abs(v) for p in vertices for v in p)
    edges = list(itertools.pairwise(vertices)) + ([(vertices[-1], vertices[0])] if closed else [])
    slots = n if closed else n - 1

    def step(a: Pt, b: Pt) -> float:
        gap = _path_position(b, vertices, closed) - _path_position(a, vertices, closed)
        return gap if gap >= -TOL else gap + total  # wrapping past the first vertex

    checks = [
        count(n, dims),
        distance("path", lambda p: min(_segment_distance(p, a, b) for a, b in edges), scale),
        point_at(0, vertices[0], scale),
        Check(
            "equal spacing along the path",
            lambda points: _worst(
                [abs(step(a, b) - total / slots) for a, b in itertools.pairwise(points)], TOL * max(1.0, scale)
            ),
        ),
    ]
    if not closed:
        checks.append(point_at(n - 1, vertices[-1], scale))
    lows = [min(p[i] for p in vertices) for i in range(dims)]
    highs = [max(_pad(p)[i] for p in vertices) for i in range(dims)]
    checks.append(within(lows, highs))
    return checks


def regular_vertices(center: Pt, radii: Sequence[float], m: int, start: float) -> list[tuple[float, float]]:
    return [
        (
            center[0] + radii[k % len(radii)] * math.cos(math.radians(start + 360 * k / m)),
            center[1] + radii[k % len(radii)] * math.sin(math.radians(start + 360 * k / m)),
        )
        for k in range(m)
    ]


def polygon(center: Pt, r: float, sides: int, n: int | None = None, start: float | None = None) -> list[Check]:
    """A regular polygon; by default its bottom edge is horizontal."""
    first = 270 - 180 / sides if start is None else start
    vertices = regular_vertices(center, [r], sides, first)
    checks = path(vertices, n or sides, closed=True)
    if n is None or n == sides:
        checks.append(same_points(vertices, r))
    return checks


def star(center: Pt, r: float, inner: float, tips: int, n: int | None = None, start: float = 90.0) -> list[Check]:
    vertices = regular_vertices(center, [r, inner], 2 * tips, start)
    checks = path(vertices, n or 2 * tips, closed=True)
    if n is None:
        checks.append(same_points(vertices, r))
    return checks


def line(a: Pt, b: Pt, n: int) -> list[Check]:
    dims = len(a)
    return [
        count(n, dims),
        distance("segment", lambda p: _segment_distance(p, a, b), chord(a, b)),
        equal_steps(chord, closed=False, expected=chord(a, b) / (n - 1), scale=chord(a, b)),
        point_at(0, a),
        point_at(n - 1, b),
        within([min(x, y) for x, y in zip(a, b, strict=True)], [max(x, y) for x, y in zip(a, b, strict=True)]),
    ]


def lattice(xs: Sequence[float], ys: Sequence[float], zs: Sequence[float] | None = None) -> list[Check]:
    """Row by row from the lowest corner: x fastest, then y, then z."""
    if zs is None:
        expected: list[Pt] = [(x, y) for y in ys for x in xs]
        dims = 2
    else:
        expected = [(x, y, z) for z in zs for y in ys for x in xs]
        dims = 3
    return [
        count(len(expected), dims),
        same_points(expected, max(abs(v) for p in expected for v in p)),
    ]


def spread(low: float, high: float, k: int) -> list[float]:
    return [low + (high - low) * i / (k - 1) for i in range(k)] if k > 1 else [(low + high) / 2]


def centred(center: float, spacing: float, k: int) -> list[float]:
    return [center + (i - (k - 1) / 2) * spacing for i in range(k)]


def spiral(center: Pt, outer: float, turns: float, n: int, inner: float = 0.0, clockwise: bool = False) -> list[Check]:
    c = _pad(center)
    b = (outer - inner) / (2 * math.pi * turns)
    sign = -1 if clockwise else 1

    def arc_to(r: float) -> float:  # arc length of r = b * theta from the pole, in closed form
        return (r * math.hypot(r, b) + b * b * math.asinh(r / b)) / (2 * b)

    def off_spiral(p: Pt) -> float:
        rho = math.hypot(p[0] - c[0], p[1] - c[1])
        theta = sign * (rho - inner) / b
        return math.dist(p[:2], (c[0] + rho * math.cos(theta), c[1] + rho * math.sin(theta)))

    total = arc_to(outer) - arc_to(inner)

    def step(p: Pt, q: Pt) -> float:
        return arc_to(math.hypot(q[0] - c[0], q[1] - c[1])) - arc_to(math.hypot(p[0] - c[0], p[1] - c[1]))

    end = sign * 2 * math.pi * turns
    return [
        count(n, 2),
        distance("spiral", off_spiral, outer),
        equal_steps(step, closed=False, expected=total / (n - 1), scale=outer),
        point_at(0, (c[0] + inner, c[1]), outer),
        point_at(n - 1, (c[0] + outer * math.cos(end), c[1] + outer * math.sin(end)), outer),
        within((c[0] - outer, c[1] - outer), (c[0] + outer, c[1] + outer)),
    ]


def sphere(center: Pt, r: float, n: int) -> list[Check]:
    c = _pad(center)
    golden = math.pi * (3 - math.sqrt(5))

    def levels(points: Points) -> str | None:
        return _worst([abs((p[2] - c[2]) / r - (1 - (2 * i + 1) / n)) * r for i, p in enumerate(points)], TOL * r)

    def turns(points: Points) -> str | None:
        gaps = []
        for i, p in enumerate(points):
            ring = math.hypot(p[0] - c[0], p[1] - c[1])
            if ring > 1e-6 * r:
                expected = (c[0] + ring * math.cos(golden * i), c[1] + ring * math.sin(golden * i))
                gaps.append(math.dist(p[:2], expected))
        return _worst(gaps, TOL * r)

    return [
        count(n, 3),
        distance("sphere", lambda p: abs(math.dist(p, c) - r), r),
        Check("evenly spaced levels", levels),
        Check("golden-angle turns", turns),
        within([v - r for v in c], [v + r for v in c]),
    ]


def helix(center: Pt, r: float, height: float, turns: float, n: int) -> list[Check]:
    c = _pad(center)
    end = 2 * math.pi * turns

    def off_helix(p: Pt) -> float:
        t = (p[2] - c[2]) / height
        angle = 2 * math.pi * turns * t
        return math.dist(p, (c[0] + r * math.cos(angle), c[1] + r * math.sin(angle), p[2]))

    return [
        count(n, 3),
        distance("helix", off_helix, max(r, height)),
        equal_steps(chord, closed=False, scale=max(r, height)),
        point_at(0, (c[0] + r, c[1], c[2]), r),
        point_at(n - 1, (c[0] + r * math.cos(end), c[1] + r * math.sin(end), c[2] + height), max(r, height)),
        within((c[0] - r, c[1] - r, c[2]), (c[0] + r, c[1] + r, c[2] + height)),
    ]


def random_box(low: Pt, high: Pt, n: int, seed: int) -> list[Check]:
    rng = random.Random(seed)
    expected = [[lo + (hi - lo) * rng.random() for lo, hi in zip(low, high, strict=True)] for _ in range(n)]
    return [count(n, len(low)), within(low, high), same_points(expected, max(map(abs, (*low, *high))))]


def random_disc(center: Pt, r: float, n: int, seed: int) -> list[Check]:
    def expected() -> list[tuple[float, float]]:
        rng = random.Random(seed)
        out = []
        for _ in range(n):
            rho, theta = r * math.sqrt(rng.random()), 2 * math.pi * rng.random()
            out.append((center[0] + rho * math.cos(theta), center[1] + rho * math.sin(theta)))
        return out

    return [
        count(n, 2),
        Check("inside the disc", lambda points: _worst([max(0.0, math.dist(p, center) - r) for p in points])),
        same_points(expected(), r),
    ]


def rotated(checks_for: Callable[[Callable[[Pt], Pt]], list[Check]], angle: float, about: Pt) -> list[Check]:
    """Checks for a shape turned by `angle` degrees about `about`: the oracle gets the rotation to apply."""
    cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))

    def turn(p: Pt) -> Pt:
        x, y = p[0] - about[0], p[1] - about[1]
        return (about[0] + x * cos - y * sin, about[1] + x * sin + y * cos)

    return checks_for(turn)
