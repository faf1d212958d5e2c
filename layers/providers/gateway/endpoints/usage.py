"""`GET /v1/usage`: the calling API key's own day (UTC): what it spent, what is left of its budget, its requests, and
per provider and model its calls, tokens and cost. The key is the one API Gateway accepted for the request
(`requestContext.identity.apiKeyId`), never one named in the request; the answer names it."""

from __future__ import annotations

import time

from pydantic import BaseModel, Field

from gateway.config.context import RequestContext
from gateway.core import clock
from gateway.core.errors import ApiKeyRequiredError, ConfigurationError
from gateway.resilience.key_budget_error import next_utc_midnight
from gateway.stores.key_budgets import KeyBudgetStore
from gateway.stores.spend_ledger import units_usd
from gateway.stores.usage import UsageStore


class ModelUsageOut(BaseModel):
    provider: str
    model: str
    calls: int = Field(description="the attempts that reached this model")
    input_tokens: int
    output_tokens: int
    cost_usd: float


class BudgetLeft(BaseModel):
    daily_usd: float | None
    daily_requests: int | None
    remaining_usd: float | None = Field(description="daily_usd less what was spent today")
    remaining_requests: int | None = Field(description="daily_requests less today's requests")


class UsageOut(BaseModel):
    api_key_id: str
    day: str = Field(description="the UTC day, YYYY-MM-DD")
    resets_at: str = Field(description="when the day, and the budget with it, starts again (UTC)")
    spent_usd: float
    requests: int = Field(description="today's requests that called a provider")
    input_tokens: int
    output_tokens: int
    budget: BudgetLeft | None = Field(description="the key's own budget; null: only the gateway's caps apply")
    by_model: list[ModelUsageOut]


def key_usage(ctx: RequestContext) -> UsageOut:
    """The calling key's usage today, read from the table (every instance's requests, each written as it ended)."""
    key = ctx.api_key_id
    if key is None:
        raise ApiKeyRequiredError("the usage is the API key's: send the request with one (x-api-key)")
    table = ctx.settings.state_table
    if not table:
        raise ConfigurationError("PROVIDER_STATE_TABLE is not set: there is no usage to read")
    now = clock.wall()
    day = time.strftime("%Y-%m-%d", time.gmtime(now))
    usage = UsageStore(table).day(day, key)
    budget = KeyBudgetStore(table).get(key)
    models = [
        ModelUsageOut(provider=provider, model=model, calls=m.calls, input_tokens=m.input_tokens,
                      output_tokens=m.output_tokens, cost_usd=units_usd(m.cost_units))
        for (provider, model), m in sorted(usage.models.items())
    ]  # fmt: skip
    spent = units_usd(sum(m.cost_units for m in usage.models.values()))
    left = None
    if budget is not None:
        left = BudgetLeft(
            daily_usd=budget.daily_usd,
            daily_requests=budget.daily_requests,
            remaining_usd=max(0.0, round(budget.daily_usd - spent, 10)) if budget.daily_usd is not None else None,
            remaining_requests=max(0, budget.daily_requests - usage.requests)
            if budget.daily_requests is not None
            else None,
        )
    return UsageOut(
        api_key_id=key,
        day=day,
        resets_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(next_utc_midnight(now))),
        spent_usd=spent,
        requests=usage.requests,
        input_tokens=sum(m.input_tokens for m in models),
        output_tokens=sum(m.output_tokens for m in models),
        budget=left,
        by_model=models,
    )
