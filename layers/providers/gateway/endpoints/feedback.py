"""`POST /v1/feedback`: a rating of one answer (`score` -1 or 1, an optional comment), by the API key that asked for
it; a second rating replaces the first. What ratings do to learning: `gateway.learning.feedback`."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from gateway.config.context import RequestContext
from gateway.core.errors import NotFoundError
from gateway.learning import feedback

REQUEST_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,128}$"  # as the gateway accepts an X-Request-Id


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    request_id: str = Field(pattern=REQUEST_ID_PATTERN, description="the answer's request_id")
    score: Literal[-1, 1] = Field(description="-1: a bad answer (never a training example), 1: a good one")
    comment: str | None = Field(None, min_length=1, max_length=2000)


class FeedbackOut(BaseModel):
    request_id: str
    score: int
    provider: str = Field(description="who gave the answer rated")
    model: str
    replaced: bool = Field(description="an earlier rating of the same answer was replaced")


def rate(body: FeedbackIn, ctx: RequestContext) -> FeedbackOut:
    rating = feedback.rate(ctx.settings, body.request_id, ctx.api_key_id, body.score, body.comment)
    if rating is None:
        raise NotFoundError(f"no answer with request_id {body.request_id!r} for this API key")
    return FeedbackOut(
        request_id=body.request_id, score=body.score, provider=rating.provider, model=rating.model,
        replaced=rating.replaced,
    )  # fmt: skip
