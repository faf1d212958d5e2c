"""The generate-points endpoint's logic: ask for points with a JSON schema and accept only valid ones."""

from __future__ import annotations

import json
import math
import time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from gateway.chain import OutputRejectedError, run_chain
from gateway.contracts import ProviderAnswer, provider_answer_fields
from gateway.providers import registry
from gateway.providers.base import GenerationRequest
from gateway.request_context import RequestContext
from gateway.settings import Settings, get_settings
from gateway.stores.secrets import ProviderKeys

Coordinate = list[float]


class Bounds(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min: list[float] = Field(min_length=2, max_length=3)
    max: list[float] = Field(min_length=2, max_length=3)

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
    model_config = ConfigDict(extra="forbid")

    count: int | None = Field(None, ge=1)
    center: list[float] | None = Field(None, min_length=2, max_length=3)
    radius: float | None = Field(None, gt=0, allow_inf_nan=False)
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


class PointsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(min_length=1, max_length=4000)
    context: PointsContext = Field(default_factory=lambda: PointsContext())

    @field_validator("prompt")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value


class PointsResponse(ProviderAnswer):
    points: list[Coordinate] = Field(description="Each point as [x, y] or [x, y, z]")
    count: int
    dimensions: int


def points_schema(dimensions: int) -> dict[str, Any]:
    """The JSON schema every provider in the chain is asked to fill."""
    axes = ["x", "y", "z"][:dimensions]
    point = {"type": "object", "properties": {a: {"type": "number"} for a in axes}, "required": axes}
    return {
        "type": "object",
        "properties": {"points": {"type": "array", "items": point}},
        "required": ["points"],
    }


def points_chain(settings: Settings, keys: ProviderKeys) -> list[registry.ProviderSpec]:
    """Hugging Face's point generator model, then Gemini; configured only."""
    specs = [registry.huggingface(settings, keys, settings.hf_point_generator_model), registry.gemini(settings, keys)]
    return [spec for spec in specs if spec.configured]


def build_prompt(request: PointsRequest) -> str:
    context = request.context
    constraints = [f"dimensions: {context.resolved_dimensions}"]
    if context.count is not None:
        constraints.append(f"count: {context.count}")
    if context.center is not None:
        constraints.append(f"center: ({', '.join(_num(v) for v in context.center)})")
    if context.radius is not None:
        constraints.append(f"radius: {_num(context.radius)}")
    if context.bounds is not None:
        constraints.append(f"bounds: min {context.bounds.min}, max {context.bounds.max}")
    return f"{request.prompt}\n\nConstraints: {'; '.join(constraints)}."


def parse_points(text: str, context: PointsContext, cap: int) -> list[Coordinate]:
    """Parse and check a model's answer; anything not exactly as asked raises OutputRejectedError."""
    try:
        data = json.loads(text)
    except ValueError:
        raise OutputRejectedError("the answer is not JSON") from None
    raw = data.get("points") if isinstance(data, dict) else None
    if not isinstance(raw, list) or not raw:
        raise OutputRejectedError("the answer has no points list")
    if len(raw) > cap:
        raise OutputRejectedError(f"the answer has {len(raw)} points, over the cap of {cap}")
    if context.count is not None and len(raw) != context.count:
        raise OutputRejectedError(f"asked for {context.count} points, got {len(raw)}")
    axes = ["x", "y", "z"][: context.resolved_dimensions]
    points = [_coordinate(item, axes, index) for index, item in enumerate(raw)]
    if context.bounds is not None:
        for index, point in enumerate(points):
            if any(not lo <= v <= hi for v, lo, hi in zip(point, context.bounds.min, context.bounds.max, strict=True)):
                raise OutputRejectedError(f"point {index} lies outside the bounds")
    return points


def _coordinate(item: object, axes: list[str], index: int) -> Coordinate:
    if not isinstance(item, dict):
        raise OutputRejectedError(f"point {index} is not an object")
    coords = []
    for axis in axes:
        value = item.get(axis)
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise OutputRejectedError(f"point {index} has no finite {axis}")
        coords.append(float(value))
    return coords


def _num(value: float) -> str:
    return f"{value:g}"


async def generate(request: PointsRequest, ctx: RequestContext) -> PointsResponse:
    """Ask the chain for points and return the first answer that passes every check."""
    started = time.perf_counter()
    settings, keys = ctx.settings, ctx.keys
    dims = request.context.resolved_dimensions
    generation_request = GenerationRequest(
        prompt=build_prompt(request),
        system=(
            "You generate coordinates. Answer only with JSON matching the schema: an object with a "
            "'points' list. Follow the constraints exactly."
        ),
        max_output_tokens=8192,
        temperature=0.0,
        json_schema=points_schema(dims),
        schema_name="points",
    )
    result = await run_chain(
        points_chain(settings, keys),
        generation_request,
        lambda text: parse_points(text, request.context, settings.max_points),
        ctx.deadline,
        secrets=keys.values(),
    )
    latency_ms = round((time.perf_counter() - started) * 1000, 2)
    return PointsResponse(
        points=result.value,
        count=len(result.value),
        dimensions=dims,
        **provider_answer_fields(result, ctx.request_id, latency_ms),
    )
