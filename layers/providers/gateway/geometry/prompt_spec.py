"""From what the local parser read of a prompt (its values and shape words) to a spec: which primitive the
shape words name, and which values it takes; a value it has no use for is reported, not dropped silently."""

from __future__ import annotations

import math
from typing import Any

from gateway.geometry.engine import anchor, complete
from gateway.geometry.spec import Spec, SpecError
from gateway.geometry.vocabulary import SAME_SHAPE


class _Use:
    """The parsed values, remembering which ones the spec used: a value left unused was not understood."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values
        self.used: set[str] = set()

    def __contains__(self, name: str) -> bool:
        return name in self.values

    def __getitem__(self, name: str) -> Any:
        self.used.add(name)
        return self.values[name]

    def get(self, name: str, default: Any = None) -> Any:
        if name in self.values:
            self.used.add(name)
        return self.values.get(name, default)

    def peek(self, name: str) -> Any:
        return self.values.get(name)

    def pick(self, *names: str) -> dict[str, Any]:
        return {name: self[name] for name in names if name in self}

    def unused(self) -> list[str]:
        return sorted(set(self.values) - self.used - {"tuple_units"})


def build_spec(values: dict[str, Any], found_shapes: list[str]) -> tuple[Spec | None, list[str]]:
    """The spec the values read from a prompt describe, and the names of values it had no use for."""
    v = _Use(values)
    shapes = list(dict.fromkeys(found_shapes))
    shape = _one_shape(shapes, bool(v.get("random")), v.peek("path"))
    if shape is None:
        return None, []
    primitive = _primitive(shape, shapes, v)
    transforms: list[dict[str, Any]] = []
    if "rotation" in v:
        about = anchor(complete(Spec.model_validate({"primitives": [primitive]}).primitives[0]))
        transforms.append({"kind": "rotate", "angle": v["rotation"], "about": about})
    spec: dict[str, Any] = {"primitives": [primitive], "transforms": transforms, **v.pick("dimensions", "unit")}
    return Spec.model_validate(spec), v.unused()


def _primitive(shape: str, shapes: list[str], v: _Use) -> dict[str, Any]:
    def base() -> dict[str, Any]:
        return v.pick("center", "count")

    if shape == "random_rect":
        v.get("inside")
        low, high = _box(v, shapes) or ([0.0, 0.0], [1.0, 1.0])
        return {"kind": "random_in_rectangle", "min_corner": low, "max_corner": high, **v.pick("count", "seed")}
    if shape == "random_disc":
        v.get("inside")
        radius = {"radius": 1.0} if "unit_circle" in shapes else v.pick("radius")
        return {"kind": "random_in_disc", **base(), **radius, **v.pick("seed")}
    if shape in ("circle", "unit_circle"):
        radius = {"radius": 1.0} if shape == "unit_circle" else v.pick("radius")
        return {"kind": "circle", **base(), **radius, **v.pick("start_angle", "clockwise")}
    if shape in ("arc", "semicircle", "quarter"):
        if "angles" in v:
            start, end = v["angles"]
        else:
            start = v.get("start_angle", 0.0)
            sweep = {"semicircle": 180.0, "quarter": 90.0}.get(shape) or v.get("sweep")
            if sweep is None:
                raise SpecError("an arc needs its angles")
            end = start - sweep if v.get("clockwise") else start + sweep
        return {"kind": "arc", **base(), **v.pick("radius"), "start_angle": start, "end_angle": end}
    if shape == "ellipse":
        primitive = {"kind": "ellipse", **base(), **v.pick("radius_x", "radius_y", "start_angle", "clockwise")}
        if "radius_x" not in v:
            width, height = _extent(v)
            if width is not None and height is not None:
                primitive |= {"radius_x": width / 2, "radius_y": height / 2}
        if "rotation" in v:
            primitive["rotation"] = v["rotation"]
            del v.values["rotation"]  # a tilt of the ellipse itself, not a rotate transform
        return primitive
    if shape.startswith("polygon") or shape == "unit_square":
        sides = int(shape.split(":")[1]) if ":" in shape else v.get("sides", 4 if shape == "unit_square" else None)
        if sides is None:
            raise SpecError("a polygon needs its number of sides")
        if sides == 4 and "tuple" in v:  # "a 5 by 3 square" is a rectangle
            return _rectangle(v, shapes)
        path = v.peek("path")
        if path is not None:  # "a triangle with vertices ...": not regular, so a closed path through them
            if len(path) == 2 and sides == 4:
                return _rectangle(v, shapes)
            if len(path) != sides:
                raise SpecError(f"a shape with {sides} sides through {len(path)} points")
            return {"kind": "polyline", "vertices": v["path"], "closed": True, **v.pick("count")}
        if ":" in shape and "sides" in v and v["sides"] != sides:
            raise SpecError("conflicting numbers of sides")
        primitive = {"kind": "polygon", "sides": sides, **base(), **v.pick("radius", "side_length", "clockwise")}
        if shape == "unit_square":
            primitive |= {"side_length": 1.0, "center": v.get("center", [0.5, 0.5])}
        first = v.get("start_angle", 270 - 180 / sides)
        if "rotation" in v:
            first += v["rotation"]
            del v.values["rotation"]
        if "start_angle" in v.used or first != 270 - 180 / sides:
            primitive["start_angle"] = first
        return primitive
    if shape == "rectangle":
        return _rectangle(v, shapes)
    if shape.startswith("star"):
        sides = int(shape.split(":")[1]) if ":" in shape else v.get("sides", 5)
        sizes = v.pick("radius", "inner_radius", "start_angle", "clockwise")
        return {"kind": "star", "sides": sides, **base(), **sizes}
    if shape == "line":
        primitive = {"kind": "line", **v.pick("count")}
        if "path" in v:
            path = v["path"]
            if len(path) != 2:
                raise SpecError("a line has two ends")
            return primitive | {"start": path[0], "end": path[1]}
        if "length" in v:
            c = v.get("center", [0.0, 0.0])
            half = v["length"] / 2
            return primitive | {"start": [c[0] - half, *c[1:]], "end": [c[0] + half, *c[1:]]}
        return primitive
    if shape == "polyline":
        if "path" not in v:
            raise SpecError("a path needs its vertices")
        return {"kind": "polyline", "vertices": v["path"], **v.pick("count", "closed")}
    if shape in ("grid", "cube_grid", "unit_cube"):
        return _grid(shape, v)
    if shape == "spiral":
        return {"kind": "spiral", **base(), **v.pick("radius", "inner_radius", "turns", "start_angle", "clockwise")}
    if shape in ("sphere", "unit_sphere"):
        return {"kind": "sphere", **base(), **({"radius": 1.0} if shape == "unit_sphere" else v.pick("radius"))}
    if shape == "helix":
        primitive = {"kind": "helix", **base(), **v.pick("radius", "turns", "height", "start_angle", "clockwise")}
        if "pitch" in v and "height" not in primitive:
            primitive["height"] = v["pitch"] * primitive.get("turns", 3.0)
        return primitive
    raise SpecError(f"no drawing for {shape}")  # pragma: no cover - _one_shape returns only the shapes above


def _rectangle(v: _Use, shapes: list[str]) -> dict[str, Any]:
    box = _box(v, shapes)
    if box is None:
        raise SpecError("a rectangle needs its size or corners")
    (x0, y0, *_), (x1, y1, *_) = box
    corners = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
    return {"kind": "polyline", "vertices": corners, "closed": True, **v.pick("count")}


def _grid(shape: str, v: _Use) -> dict[str, Any]:
    tuple_ = v.peek("tuple")
    three = shape != "grid" or v.peek("dimensions") == 3 or (tuple_ is not None and len(tuple_) == 3)
    primitive: dict[str, Any] = {"kind": "cube_grid" if three else "grid", **v.pick("rows", "columns", "spacing")}
    if three:
        primitive |= v.pick("layers")
    if tuple_ is not None:
        sizes = v["tuple"]
        if any(t != int(t) for t in sizes):
            raise SpecError("grid sizes are whole numbers")
        primitive |= dict(zip(("columns", "rows", "layers"), (int(t) for t in sizes), strict=False))
    path = v.peek("path")
    if shape == "unit_cube":
        primitive |= {"min_corner": [0.0, 0.0, 0.0], "max_corner": [1.0, 1.0, 1.0]}
    elif "box" in v or (path is not None and len(path) == 2):
        low, high = v["box"] if "box" in v else v["path"]
        primitive |= {"min_corner": low, "max_corner": high}
    elif three and "side_length" in v:
        c = _pad3(v.get("center", [0.0, 0.0, 0.0]))
        half = v["side_length"] / 2
        primitive |= {"min_corner": [x - half for x in c], "max_corner": [x + half for x in c]}
    else:
        primitive |= v.pick("center")
    if "count" in v:
        count = v["count"]
        names = ("columns", "rows", "layers")[: 3 if three else 2]
        if any(name in primitive for name in names):
            cells = math.prod(primitive.get(name, 2 if three else 3) for name in names)
            if cells != count:
                raise SpecError(f"a grid of {cells} points cannot hold {count}")
        primitive["count"] = count
    return primitive


def _one_shape(shapes: list[str], random: bool, path: list[list[float]] | None) -> str | None:
    """The one shape the prompt names, or None; two different shapes are not a prompt it understands."""
    if random:
        if not shapes or set(shapes) <= {"rectangle", "polygon:4", "unit_square", "cube_grid", "unit_cube"}:
            return "random_rect"
        if set(shapes) <= {"circle", "disc", "unit_circle"}:
            return "random_disc"
        raise SpecError("random points are drawn in a rectangle, a box or a disc")
    if not shapes:
        if path is not None:
            return "line" if len(path) == 2 else "polyline"
        return None
    for keep, drop in SAME_SHAPE:
        if drop in shapes and any(s.startswith(keep) for s in shapes if s != drop):
            shapes = [s for s in shapes if s != drop]
    if len(shapes) > 1:
        raise SpecError(f"more than one shape named: {', '.join(shapes)}")
    if shapes[0] == "disc":
        raise SpecError("points on a disc: on its edge or inside it?")
    return shapes[0]


def _box(v: _Use, shapes: list[str]) -> tuple[list[float], list[float]] | None:
    """The rectangle (or box) a prompt describes: ranges, two corners, a unit square, or a size around a centre."""
    if "box" in v:
        low, high = v["box"]
        return list(low), list(high)
    path = v.peek("path")
    if path is not None and len(path) == 2:
        return list(v["path"][0]), list(v["path"][1])
    if "unit_square" in shapes:
        return [0.0, 0.0], [1.0, 1.0]
    if "unit_cube" in shapes:
        return [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]
    width, height = _extent(v)
    if width is None and "side_length" in v:
        width = height = v["side_length"]
    if width is None or height is None:
        return None
    c = v.get("center", [0.0, 0.0])
    return [c[0] - width / 2, c[1] - height / 2], [c[0] + width / 2, c[1] + height / 2]


def _extent(v: _Use) -> tuple[float | None, float | None]:
    tuple_ = v.peek("tuple")
    if tuple_ is not None and len(tuple_) == 2:
        width, height = v["tuple"]
        return float(width), float(height)
    if "width" in v and "height" in v:
        return v["width"], v["height"]
    return None, None


def _pad3(v: list[float]) -> list[float]:
    return [*v, 0.0] if len(v) == 2 else list(v)
