"""Shape specifications: what a model (or the local parser) says to draw, validated by pydantic.

A spec is a list of primitives (each a flat object told apart by `kind`) plus transforms applied to
every point in order. Angles are in degrees, counter-clockwise from the +x axis. The JSON schema the
providers fill (`spec_schema`) is deliberately flat and Gemini-compatible: one object type for every
primitive with a `kind` enum and optional fields, no `$ref`, `oneOf` or `additionalProperties`.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

MAX_COORDINATE = 1e12
MAX_PRIMITIVES = 16
MAX_VERTICES = 1000
MAX_TURNS = 1000.0

Number = Annotated[float, Field(allow_inf_nan=False, ge=-MAX_COORDINATE, le=MAX_COORDINATE)]
Length = Annotated[float, Field(allow_inf_nan=False, gt=0, le=MAX_COORDINATE)]
Angle = Annotated[float, Field(allow_inf_nan=False, ge=-36000, le=36000)]
Vector = Annotated[list[Number], Field(min_length=2, max_length=3)]
Count = Annotated[int, Field(ge=1, le=1_000_000)]
Cells = Annotated[int, Field(ge=1, le=10_000)]
Factor = Annotated[float, Field(allow_inf_nan=False, ge=-1e6, le=1e6)]

PLANE_KINDS = ("circle", "arc", "ellipse", "polygon", "star", "line", "polyline", "grid", "spiral")
RANDOM_KINDS = ("random_in_rectangle", "random_in_disc")
SPACE_KINDS = ("sphere", "helix", "cube_grid")
KINDS = (*PLANE_KINDS, *RANDOM_KINDS, *SPACE_KINDS, "raw")
THREE_D_KINDS = frozenset(SPACE_KINDS)


class SpecError(ValueError):
    """A spec that cannot be drawn as asked; `field` names the request field at fault when it is one."""

    def __init__(self, message: str, field: str = "spec") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class _Primitive(BaseModel):
    # Models fill every field of the flat schema; fields another kind uses are ignored, not rejected.
    model_config = ConfigDict(extra="ignore", frozen=True)

    count: Count | None = Field(None, description="How many points this primitive contributes")
    center: Vector | None = None

    def vectors(self) -> list[list[float]]:
        """Every coordinate this primitive carries (to tell 2D from 3D)."""
        return [self.center] if self.center is not None else []


class Circle(_Primitive):
    """`count` points evenly spaced on a circle, the first at `start_angle`."""

    kind: Literal["circle"] = "circle"
    radius: Length | None = None
    start_angle: Angle | None = None
    clockwise: bool | None = None


class Arc(_Primitive):
    """`count` points evenly spaced from `start_angle` to `end_angle`, both ends included."""

    kind: Literal["arc"] = "arc"
    radius: Length | None = None
    start_angle: Angle | None = None
    end_angle: Angle | None = None


class Ellipse(_Primitive):
    """`count` points at equal arc length on an ellipse with semi-axes `radius_x`, `radius_y`."""

    kind: Literal["ellipse"] = "ellipse"
    radius_x: Length | None = None
    radius_y: Length | None = None
    rotation: Angle | None = Field(None, description="Tilt of the x semi-axis, in degrees")
    start_angle: Angle | None = Field(None, description="Eccentric angle of the first point, in degrees")
    clockwise: bool | None = None


class Polygon(_Primitive):
    """A regular polygon: its vertices (count = sides) or `count` points at equal spacing along its edges."""

    kind: Literal["polygon"] = "polygon"
    sides: Annotated[int, Field(ge=3, le=MAX_VERTICES)] | None = None
    radius: Length | None = Field(None, description="Circumradius (centre to vertex)")
    side_length: Length | None = None
    start_angle: Angle | None = Field(None, description="Angle of the first vertex; default: bottom edge horizontal")
    clockwise: bool | None = None


class Star(_Primitive):
    """A star with `sides` tips: outer vertices on `radius`, inner ones on `inner_radius`, walked as one outline."""

    kind: Literal["star"] = "star"
    sides: Annotated[int, Field(ge=3, le=MAX_VERTICES)] | None = None
    radius: Length | None = None
    inner_radius: Length | None = None
    start_angle: Angle | None = Field(None, description="Angle of the first tip; default 90 (pointing up)")
    clockwise: bool | None = None

    @model_validator(mode="after")
    def _inner_inside(self) -> Star:
        if self.radius is not None and self.inner_radius is not None and self.inner_radius >= self.radius:
            raise ValueError("inner_radius must be smaller than radius")
        return self


class Line(_Primitive):
    """`count` points evenly spaced from `start` to `end`, both included."""

    kind: Literal["line"] = "line"
    start: Vector | None = None
    end: Vector | None = None

    def vectors(self) -> list[list[float]]:
        return [v for v in (self.center, self.start, self.end) if v is not None]


class Polyline(_Primitive):
    """The `vertices` themselves, or `count` points evenly spread along the path through them (a loop if `closed`)."""

    kind: Literal["polyline"] = "polyline"
    vertices: Annotated[list[Vector], Field(min_length=2, max_length=MAX_VERTICES)]
    closed: bool | None = None
    at_vertices: bool | None = Field(None, description="The points are the vertices themselves (default without count)")

    def vectors(self) -> list[list[float]]:
        return [*super().vectors(), *self.vertices]


class _Boxed(_Primitive):
    min_corner: Vector | None = None
    max_corner: Vector | None = None

    @model_validator(mode="after")
    def _corners(self) -> _Boxed:
        if (self.min_corner is None) != (self.max_corner is None):
            raise ValueError("min_corner and max_corner go together")
        if self.min_corner is not None and self.max_corner is not None:
            if len(self.min_corner) != len(self.max_corner):
                raise ValueError("min_corner and max_corner must have the same number of coordinates")
            # A model that swaps the corners still means the same box.
            low = [min(a, b) for a, b in zip(self.min_corner, self.max_corner, strict=True)]
            high = [max(a, b) for a, b in zip(self.min_corner, self.max_corner, strict=True)]
            object.__setattr__(self, "min_corner", low)
            object.__setattr__(self, "max_corner", high)
        return self

    def vectors(self) -> list[list[float]]:
        return [v for v in (self.center, self.min_corner, self.max_corner) if v is not None]


class Grid(_Boxed):
    """`columns` x `rows` points: spanning min_corner..max_corner, or `spacing` apart around `center`."""

    kind: Literal["grid"] = "grid"
    rows: Cells | None = None
    columns: Cells | None = None
    spacing: Length | None = None


class Spiral(_Primitive):
    """An Archimedean spiral from `inner_radius` to `radius` over `turns`, points at equal arc length."""

    kind: Literal["spiral"] = "spiral"
    radius: Length | None = None
    inner_radius: Annotated[float, Field(allow_inf_nan=False, ge=0, le=MAX_COORDINATE)] | None = None
    turns: Annotated[float, Field(allow_inf_nan=False, gt=0, le=MAX_TURNS)] | None = None
    start_angle: Angle | None = None
    clockwise: bool | None = None

    @model_validator(mode="after")
    def _grows(self) -> Spiral:
        if self.radius is not None and self.inner_radius is not None and self.inner_radius >= self.radius:
            raise ValueError("inner_radius must be smaller than radius")
        return self


class RandomInRectangle(_Boxed):
    """`count` points uniformly at random in the box min_corner..max_corner (3D when the corners are)."""

    kind: Literal["random_in_rectangle"] = "random_in_rectangle"
    seed: Annotated[int, Field(ge=0, le=2**63)] | None = None


class RandomInDisc(_Primitive):
    """`count` points uniformly at random in the disc of `radius` around `center`."""

    kind: Literal["random_in_disc"] = "random_in_disc"
    radius: Length | None = None
    seed: Annotated[int, Field(ge=0, le=2**63)] | None = None


class Sphere(_Primitive):
    """`count` points on a sphere, on a Fibonacci lattice."""

    kind: Literal["sphere"] = "sphere"
    radius: Length | None = None


class Helix(_Primitive):
    """`count` points on a helix around the z axis through `center` (its bottom), rising `height` over `turns`."""

    kind: Literal["helix"] = "helix"
    radius: Length | None = None
    height: Annotated[float, Field(allow_inf_nan=False, ge=0, le=MAX_COORDINATE)] | None = None
    turns: Annotated[float, Field(allow_inf_nan=False, gt=0, le=MAX_TURNS)] | None = None
    start_angle: Angle | None = None
    clockwise: bool | None = None


class CubeGrid(_Boxed):
    """`columns` x `rows` x `layers` points: spanning the corners, or `spacing` apart around `center`."""

    kind: Literal["cube_grid"] = "cube_grid"
    rows: Cells | None = None
    columns: Cells | None = None
    layers: Cells | None = None
    spacing: Length | None = None


class Raw(_Primitive):
    """Points as the model gave them, for shapes the vocabulary cannot express. Never exact."""

    kind: Literal["raw"] = "raw"
    points: Annotated[list[Vector], Field(min_length=1, max_length=1_000_000)]

    def vectors(self) -> list[list[float]]:
        return [*super().vectors(), *self.points]


Primitive: TypeAlias = Annotated[
    Circle
    | Arc
    | Ellipse
    | Polygon
    | Star
    | Line
    | Polyline
    | Grid
    | Spiral
    | RandomInRectangle
    | RandomInDisc
    | Sphere
    | Helix
    | CubeGrid
    | Raw,
    Field(discriminator="kind"),
]


class Translate(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    kind: Literal["translate"] = "translate"
    offset: Vector


class Rotate(BaseModel):
    """Rotate by `angle` degrees about `axis` (z in the plane) through `about` (the origin by default)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    kind: Literal["rotate"] = "rotate"
    angle: Angle
    axis: Literal["x", "y", "z"] | None = None
    about: Vector | None = None


class Scale(BaseModel):
    """Scale by `factor` (or per axis by `factors`) about `about` (the origin by default)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    kind: Literal["scale"] = "scale"
    factor: Annotated[float, Field(allow_inf_nan=False, gt=0, le=1e6)] | None = None
    factors: Annotated[list[Factor], Field(min_length=2, max_length=3)] | None = None
    about: Vector | None = None

    @model_validator(mode="after")
    def _one_of(self) -> Scale:
        if (self.factor is None) == (self.factors is None):
            raise ValueError("give exactly one of factor and factors")
        return self


Transform: TypeAlias = Annotated[Translate | Rotate | Scale, Field(discriminator="kind")]


class Spec(BaseModel):
    """What to draw: primitives, then transforms applied in order to every point."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    dimensions: Literal[2, 3] | None = None
    unit: str | None = Field(None, max_length=32, description="The length unit every number is in, if named")
    primitives: Annotated[list[Primitive], Field(min_length=1, max_length=MAX_PRIMITIVES)]
    transforms: Annotated[list[Transform], Field(max_length=MAX_PRIMITIVES)] = Field(default_factory=list)

    @field_validator("transforms", mode="before")
    @classmethod
    def _null_is_none(cls, value: object) -> object:
        return [] if value is None else value

    @model_validator(mode="after")
    def _dimensions_agree(self) -> Spec:
        if self.dimensions == 2 and natural_dimensions(self) == 3:
            raise ValueError("dimensions is 2 but the spec has three-dimensional content")
        return self

    @property
    def exact(self) -> bool:
        """False when any point came from a model as-is (a raw primitive)."""
        return not any(isinstance(p, Raw) for p in self.primitives)


def natural_dimensions(spec: Spec) -> int:
    """3 when anything in the spec lives in space (a 3D kind, a z coordinate, a tilt), else 2."""
    for primitive in spec.primitives:
        if primitive.kind in THREE_D_KINDS or any(len(v) == 3 for v in primitive.vectors()):
            return 3
    for transform in spec.transforms:
        if isinstance(transform, Rotate) and transform.axis in ("x", "y"):
            return 3
        vectors = [getattr(transform, name, None) for name in ("offset", "about", "factors")]
        if any(v is not None and len(v) == 3 for v in vectors):
            return 3
    return 2


def spec_schema(max_points: int) -> dict[str, Any]:
    """The JSON schema every provider in the chain fills: the same dict for Hugging Face and Gemini."""
    number: dict[str, Any] = {"type": "number"}
    positive: dict[str, Any] = {"type": "number", "minimum": 0}
    vector: dict[str, Any] = {"type": "array", "items": number, "minItems": 2, "maxItems": 3}
    vectors: dict[str, Any] = {"type": "array", "items": vector, "maxItems": MAX_VERTICES}
    integer = {"type": "integer", "minimum": 1}
    flag = {"type": "boolean"}
    primitive: dict[str, Any] = {
        "type": "object",
        "properties": {
            "kind": {"type": "string", "enum": list(KINDS), "description": "Which primitive"},
            "count": {**integer, "maximum": max_points, "description": "Points this primitive contributes"},
            "center": {**vector, "description": "[x, y] or [x, y, z]; helix: the bottom of its axis"},
            "radius": {**positive, "description": "round kinds; spiral: outer; polygon/star: centre to vertex"},
            "inner_radius": {**positive, "description": "star: inner vertices; spiral: where it starts"},
            "radius_x": {**positive, "description": "ellipse semi-axis along x"},
            "radius_y": {**positive, "description": "ellipse semi-axis along y"},
            "rotation": {**number, "description": "ellipse: tilt of the x semi-axis, degrees"},
            "sides": {**integer, "minimum": 3, "maximum": MAX_VERTICES, "description": "polygon sides, star tips"},
            "side_length": {**positive, "description": "polygon edge length (instead of radius)"},
            "start_angle": {**number, "description": "degrees, counter-clockwise from +x: first point or vertex"},
            "end_angle": {**number, "description": "arc: last point, degrees"},
            "clockwise": flag,
            "start": {**vector, "description": "line start"},
            "end": {**vector, "description": "line end"},
            "vertices": {**vectors, "description": "polyline path"},
            "closed": {**flag, "description": "polyline: a loop back to the first vertex"},
            "at_vertices": {**flag, "description": "polyline: the points are its vertices, not spread along it"},
            "rows": {**integer, "description": "grid/cube_grid: points along y"},
            "columns": {**integer, "description": "grid/cube_grid: points along x"},
            "layers": {**integer, "description": "cube_grid: points along z"},
            "spacing": {**positive, "description": "grid/cube_grid: distance between neighbours"},
            "min_corner": {**vector, "description": "grid/cube_grid/random_in_rectangle: lowest corner"},
            "max_corner": {**vector, "description": "grid/cube_grid/random_in_rectangle: highest corner"},
            "turns": {**positive, "description": "spiral/helix: full turns"},
            "height": {**positive, "description": "helix: rise from first to last point"},
            "seed": {"type": "integer", "minimum": 0, "description": "random kinds: the random seed"},
            "points": {**vectors, "description": "raw only: the points, for shapes no other kind can express"},
        },
        "required": ["kind"],
    }
    transform: dict[str, Any] = {
        "type": "object",
        "properties": {
            "kind": {"type": "string", "enum": ["translate", "rotate", "scale"]},
            "offset": {**vector, "description": "translate by"},
            "angle": {**number, "description": "rotate by, degrees counter-clockwise"},
            "axis": {"type": "string", "enum": ["z", "x", "y"], "description": "rotate about (z in the plane)"},
            "about": {**vector, "description": "rotate/scale about this point (default origin)"},
            "factor": {**positive, "description": "scale uniformly"},
            "factors": {**vector, "description": "scale per axis (instead of factor)"},
        },
        "required": ["kind"],
    }
    return {
        "type": "object",
        "properties": {
            "primitives": {"type": "array", "items": primitive, "minItems": 1, "maxItems": MAX_PRIMITIVES},
            "transforms": {"type": "array", "items": transform, "maxItems": MAX_PRIMITIVES},
            "unit": {"type": "string", "description": "length unit of every number, if the prompt names one"},
        },
        "required": ["primitives"],
    }


def parse_spec(text: str) -> Spec:
    """A model's answer as a Spec; anything that is not one raises SpecError with the first problems."""
    try:
        data = json.loads(text)
    except ValueError:
        raise SpecError("the answer is not JSON") from None
    if not isinstance(data, dict):
        raise SpecError("the answer is not a JSON object")
    try:
        return Spec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(f"the spec does not validate: {describe(exc)}") from None


def describe(exc: ValidationError, limit: int = 3) -> str:
    """A short account of a validation error: up to `limit` `location: message` pairs."""
    parts = []
    for error in exc.errors()[:limit]:
        location = ".".join(str(p) for p in error["loc"])
        parts.append(f"{location}: {error['msg']}" if location else str(error["msg"]))
    more = len(exc.errors()) - limit
    return "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")
