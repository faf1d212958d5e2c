"""The model catalogue (`shared/models.json`): prices and capabilities per model."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, Field

CATALOGUE_PATH = Path(__file__).parent.parent / "shared" / "models.json"


class ModelInfo(BaseModel):
    provider: str
    input_per_million: float = Field(ge=0)
    output_per_million: float = Field(ge=0)
    context_window: int = Field(gt=0)
    structured_output: bool
    thinking_budget: int | None = Field(None, ge=0, description="the thinking tokens the model is allowed (and told)")


class Catalogue(BaseModel):
    models: dict[str, ModelInfo]


@lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    return Catalogue.model_validate(json.loads(CATALOGUE_PATH.read_text()))


def cost_usd(model: str, input_tokens: int, output_tokens: int) -> float | None:
    """The price of one call from the provider's own usage figures; None when the model is unpriced."""
    info = catalogue().models.get(model)
    if info is None:
        return None
    cost = input_tokens * info.input_per_million + output_tokens * info.output_per_million
    return round(cost / 1_000_000, 10)
