"""The generate-points endpoint: a shape spec from the local parser or a model, drawn exactly by the engine.

Order of work for a prompt:
1. The local parser reads it. When it understands every word and number, the engine draws its spec
   at once and no provider is called (`provider: "local"`): cheaper, faster and exact.
2. Otherwise the chain (Hugging Face's point generator, then Gemini) is asked for a shape spec with
   one JSON schema. An answer that does not validate, or cannot be drawn as the context asks, is a
   failed attempt (`invalid_output`) and the next provider is tried.
3. When every provider fails or none is configured, the parser's partial reading (a shape it found,
   with words it did not know) is drawn as a last resort, with a warning naming those words.
"""

from __future__ import annotations

import math
import time
from typing import Annotated, Any, Literal

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from gateway.config.context import RequestContext
from gateway.config.settings import Settings, get_settings
from gateway.core.errors import (
    AllProvidersFailedError,
    DeadlineExceededError,
    GatewayError,
    InvalidRequestError,
    NoProviderConfiguredError,
    ProvidersUnavailableError,
    SpendCapReachedError,
)
from gateway.endpoints.answers import AttemptOut, ProviderAnswer, Usage, provider_answer_fields
from gateway.geometry.engine import Constraints, Drawing, draw
from gateway.geometry.parser import Parsed, parse_prompt
from gateway.geometry.prompt_numbers import PromptNumbers, hold
from gateway.geometry.spec import KINDS, MAX_COORDINATE, Spec, SpecError, parse_spec, spec_schema
from gateway.observability import logger, metrics
from gateway.providers import registry
from gateway.providers.base import GenerationRequest, ProviderKeys, ProviderSpec
from gateway.resilience.attempts import OutputRejectedError
from gateway.resilience.chain import run_chain

Coordinate = list[float]
# A request's coordinate or length: a JSON number (not a boolean or a string), inside the spec's own bounds, so
# the answer's `spec` always validates (it is drawn again as it is).
ContextNumber = Annotated[float, Field(strict=True, ge=-MAX_COORDINATE, le=MAX_COORDINATE)]
POINT_SHAPES = '[x, y], [x, y, z], {"x", "y"} or {"x", "y", "z"}'


def _point_as_list(value: Any) -> Any:
    """A point given as an object, as the list every point is inside the gateway: {"x": 1, "y": 2} -> [1, 2]."""
    if not isinstance(value, dict):
        return value
    if set(value) not in ({"x", "y"}, {"x", "y", "z"}):
        raise ValueError(f"a point is {POINT_SHAPES}; got an object with keys {', '.join(map(str, value)) or 'none'}")
    for axis in ("x", "y", "z"):
        if axis in value and (isinstance(value[axis], bool) or not isinstance(value[axis], int | float)):
            raise ValueError(f"{axis} must be a number")
    return [value[axis] for axis in ("x", "y", "z") if axis in value]


_COORDINATE = {"type": "number", "minimum": -MAX_COORDINATE, "maximum": MAX_COORDINATE}
# A point wherever a request takes one: [x, y], [x, y, z], {"x", "y"} or {"x", "y", "z"} (the schema says both).
Point = Annotated[
    list[ContextNumber],
    Field(min_length=2, max_length=3),
    BeforeValidator(_point_as_list),
    WithJsonSchema(
        {
            "description": f"A point: {POINT_SHAPES}",
            "anyOf": [
                {"type": "array", "items": _COORDINATE, "minItems": 2, "maxItems": 3},
                {
                    "type": "object",
                    "properties": {"x": _COORDINATE, "y": _COORDINATE, "z": _COORDINATE},
                    "required": ["x", "y"],
                    "additionalProperties": False,
                },
            ],
        }
    ),
]


def _has_point_object(context: Any) -> bool:
    if not isinstance(context, dict):
        return False
    bounds = context.get("bounds")
    corners = [bounds.get("min"), bounds.get("max")] if isinstance(bounds, dict) else []
    return any(isinstance(point, dict) for point in (context.get("center"), *corners))


class PointOut(BaseModel):
    """A point answered as an object, when the request gave its points as objects."""

    x: float
    y: float
    z: float | None = None


LOCAL_PROVIDER = "local"
LOCAL_MODEL = "local-parser"

SYSTEM_PROMPT = f"""You turn a request for points into a shape specification; the gateway computes the \
coordinates from it exactly, so never compute coordinates yourself. Answer only with JSON matching the schema.
Primitives (kind: {", ".join(KINDS)}), each with the fields it uses and no others:
- circle: center, radius, count, start_angle. arc: center, radius, start_angle, end_angle, count (ends included).
- ellipse: center, radius_x, radius_y, rotation, count. polygon (regular): sides, radius or side_length, center,
  count (more points than sides spreads them along the edges). star: sides (tips), radius, inner_radius, count.
- line: start, end, count. polyline: vertices, closed, count (spread along it) or at_vertices.
- grid: columns, rows, and spacing around center or min_corner/max_corner. spiral (Archimedean): center, radius,
  inner_radius, turns, count. random_in_rectangle: min_corner, max_corner, count, seed. random_in_disc: center,
  radius, count, seed. In 3D: sphere (center, radius, count), helix (center = bottom of the axis, radius, height,
  turns, count), cube_grid (columns, rows, layers, spacing or corners).
Angles are degrees counter-clockwise from +x. Transforms apply in order to every point: translate (offset),
rotate (angle, axis, about), scale (factor or factors, about). Only if no combination of primitives can express
the shape (a face, the outline of a house) use one primitive of kind raw with its points in `points`."""


class Bounds(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min: Point
    max: Point

    @model_validator(mode="after")
    def _ordered(self) -> Bounds:
        if len(self.min) != len(self.max):
            raise ValueError("bounds.min and bounds.max must have the same number of coordinates")
        if any(not math.isfinite(v) for v in (*self.min, *self.max)):
            raise ValueError("bounds must be finite numbers")
        if any(lo >= hi for lo, hi in zip(self.min, self.max, strict=True)):
            raise ValueError("every bounds.min coordinate must be below its bounds.max coordinate")
        return self


class PointsContext(BaseModel):
    """What the caller pins down; each field overrides what the prompt or the model said."""

    model_config = ConfigDict(extra="forbid")

    count: int | None = Field(None, ge=1, strict=True)
    center: Point | None = None
    radius: float | None = Field(None, gt=0, le=MAX_COORDINATE, allow_inf_nan=False, strict=True)
    bounds: Bounds | None = None
    dimensions: Literal[2, 3] | None = None

    @field_validator("count")
    @classmethod
    def _under_cap(cls, value: int | None) -> int | None:
        cap = get_settings().max_points
        if value is not None and value > cap:
            raise ValueError(f"must be at most {cap}")
        return value

    @field_validator("center")
    @classmethod
    def _finite(cls, value: list[float] | None) -> list[float] | None:
        if value is not None and not all(math.isfinite(v) for v in value):
            raise ValueError("must be finite numbers")
        return value

    @model_validator(mode="after")
    def _consistent_dimensions(self) -> PointsContext:
        if self.center is not None and self.bounds is not None and len(self.center) != len(self.bounds.min):
            raise ValueError("center and bounds have different numbers of coordinates")
        dims = self.dimensions
        for name, coords in (("center", self.center), ("bounds", self.bounds.min if self.bounds else None)):
            if coords is not None and dims is not None and len(coords) != dims:
                raise ValueError(f"{name} has {len(coords)} coordinates but dimensions is {dims}")
        return self

    @property
    def resolved_dimensions(self) -> int:
        if self.dimensions is not None:
            return self.dimensions
        for coords in (self.center, self.bounds.min if self.bounds else None):
            if coords is not None:
                return len(coords)
        return 2

    def constraints(self) -> Constraints:
        bounds = self.bounds
        return Constraints(
            count=self.count,
            center=self.center,
            radius=self.radius,
            bounds_min=bounds.min if bounds else None,
            bounds_max=bounds.max if bounds else None,
            dimensions=self.dimensions,
        )


class PointsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(min_length=1, max_length=4000)
    context: PointsContext = Field(default_factory=lambda: PointsContext())
    _points_as_objects: bool = PrivateAttr(default=False)

    @model_validator(mode="wrap")
    @classmethod
    def _remember_point_shape(cls, data: Any, handler: ModelWrapValidatorHandler[PointsRequest]) -> PointsRequest:
        request = handler(data)
        request._points_as_objects = isinstance(data, dict) and _has_point_object(data.get("context"))
        return request

    @property
    def points_as_objects(self) -> bool:
        """True when the request gave a point as an object: the answer's points are objects too."""
        return self._points_as_objects

    @field_validator("prompt")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        cap = get_settings().max_prompt_chars_points  # MAX_PROMPT_CHARS_POINTS
        if len(value) > cap:
            raise ValueError(f"must be at most {cap} characters")
        return value


class PointsResponse(ProviderAnswer):
    points: list[Coordinate] | list[PointOut] = Field(
        description=(
            "Each point as [x, y] or [x, y, z]; as an object {x, y} or {x, y, z} when the request gave a point"
            " (context.center, context.bounds.min or max) as an object"
        )
    )
    count: int
    dimensions: int
    exact: bool = Field(description="False when the points are a model's own (a shape no primitive expresses)")
    spec: Spec = Field(description="The shape drawn, every default filled in: drawing it again gives these points")
    warnings: list[str] | None = None


def points_chain(settings: Settings, keys: ProviderKeys) -> list[ProviderSpec]:
    """Hugging Face's point generator model, then Gemini; configured only."""
    specs = [
        registry.spec("huggingface", settings, keys, model=settings.hf_point_generator_model),
        registry.spec("gemini", settings, keys),
    ]
    return [spec for spec in specs if spec.configured]


def build_prompt(request: PointsRequest, numbers: PromptNumbers | None = None) -> str:
    """The prompt a model gets: the request's, and the constraints its context and its own numbers set."""
    context = request.context
    constraints = [f"dimensions: {context.resolved_dimensions}"]
    if numbers is not None:
        constraints.extend(numbers.describe(context.constraints()))
    if context.count is not None:
        constraints.append(f"count: {context.count}")
    if context.center is not None:
        constraints.append(f"center: ({', '.join(_num(v) for v in context.center)})")
    if context.radius is not None:
        constraints.append(f"radius: {_num(context.radius)}")
    if context.bounds is not None:
        constraints.append(f"bounds: min {context.bounds.min}, max {context.bounds.max}")
    return f"{request.prompt}\n\nConstraints: {'; '.join(constraints)}."


def draw_answer(text: str, context: PointsContext, cap: int, numbers: PromptNumbers | None = None) -> Drawing:
    """A model's answer drawn under the request's context, keeping the prompt's own numbers (a count, a radius, a
    side); an answer that is unusable or contradicts them raises OutputRejectedError."""
    try:
        spec, constraints = hold(parse_spec(text), numbers or PromptNumbers(), context.constraints())
        return draw(spec, constraints, cap)
    except SpecError as exc:
        raise OutputRejectedError(exc.message) from None


def _num(value: float) -> str:
    return f"{value:g}"


async def generate(request: PointsRequest, ctx: RequestContext) -> PointsResponse:
    """Points for a prompt: from the local parser when it understands it all, else from a model's spec."""
    started = time.perf_counter()
    settings, keys = ctx.settings, ctx.keys
    parsed = parse_prompt(request.prompt)
    if parsed.understood and parsed.spec is not None:
        drawing = _draw_local(parsed.spec, request.context, settings.max_points)
        metrics.add_metric(name="PointsAnsweredLocally", unit=MetricUnit.Count, value=1)
        return _local_answer(drawing, request, [], ctx.request_id, started)
    generation_request = GenerationRequest(
        prompt=build_prompt(request, parsed.numbers),
        system=SYSTEM_PROMPT,
        max_output_tokens=8192,
        temperature=0.0,
        json_schema=spec_schema(settings.max_points),
        schema_name="shape_spec",
    )
    try:
        result = await run_chain(
            points_chain(settings, keys),
            generation_request,
            lambda text: draw_answer(text, request.context, settings.max_points, parsed.numbers),
            ctx.deadline,
            secrets=keys.values(),
        )
    except (
        AllProvidersFailedError,
        NoProviderConfiguredError,
        DeadlineExceededError,
        ProvidersUnavailableError,
        SpendCapReachedError,
    ) as exc:
        drawing = _last_resort(parsed, request.context, settings.max_points, exc)
        return _local_answer(drawing, request, _attempts_of(exc), ctx.request_id, started)
    return _answer(result.value, request, provider_answer_fields(result, ctx.request_id, _ms(started)))


def _draw_local(spec: Spec, context: PointsContext, cap: int) -> Drawing:
    try:
        return draw(spec, context.constraints(), cap)
    except SpecError as exc:
        field = "prompt" if exc.field == "spec" else exc.field
        raise InvalidRequestError(exc.message, details=[{"field": field, "message": exc.message}]) from None


def _last_resort(parsed: Parsed, context: PointsContext, cap: int, failure: GatewayError) -> Drawing:
    """The parser's partial reading, when it found a shape and placed every number; else the chain's error."""
    if parsed.spec is None or parsed.reason is not None:
        raise failure
    try:
        drawing = draw(parsed.spec, context.constraints(), cap)
    except SpecError:
        raise failure from None
    logger.warning("no provider answered; the local parser's reading is used", extra={"ignored": parsed.unknown})
    metrics.add_metric(name="PointsLocalFallbacks", unit=MetricUnit.Count, value=1)
    ignored = ", ".join(parsed.unknown)
    drawing.warnings.insert(0, f"no provider gave a usable answer: the local parser drew this, ignoring: {ignored}")
    return drawing


def _attempts_of(exc: GatewayError) -> list[AttemptOut]:
    details = exc.details if isinstance(exc.details, dict) else {}
    return [AttemptOut.model_validate(a) for a in details.get("attempts", []) if isinstance(a, dict)]


def _local_answer(
    drawing: Drawing, request: PointsRequest, tried: list[AttemptOut], request_id: str, started: float
) -> PointsResponse:
    parse_ms = _ms(started) - sum(a.latency_ms for a in tried)
    local = AttemptOut(provider=LOCAL_PROVIDER, model=LOCAL_MODEL, outcome="ok", latency_ms=max(parse_ms, 0.0))
    attempts = [*tried, local]
    fields: dict[str, Any] = {
        "request_id": request_id,
        "provider": LOCAL_PROVIDER,
        "model": LOCAL_MODEL,
        "fallback_used": len(attempts) > 1,
        "attempts": attempts,
        "usage": Usage(input_tokens=0, output_tokens=0, cost_usd=0.0),
        "latency_ms": _ms(started),
    }
    return _answer(drawing, request, fields)


def _answer(drawing: Drawing, request: PointsRequest, fields: dict[str, Any]) -> PointsResponse:
    """The answer, its points in the shape the request gave its own in."""
    points: list[Coordinate] | list[PointOut] = drawing.points
    if request.points_as_objects:
        points = [PointOut(**dict(zip("xyz", point, strict=False))) for point in drawing.points]
    return PointsResponse(
        points=points,
        count=len(drawing.points),
        dimensions=drawing.dimensions,
        exact=drawing.exact,
        spec=drawing.spec,
        warnings=drawing.warnings or None,
        **fields,
    )


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
