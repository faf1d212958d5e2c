"""The admin routes about keys (IAM-authorised in API Gateway): a provider's key, and an API key's own budget.

`PUT /v1/admin/providers/{provider}/key`: a provider's key written as a new version of the provider secret, in use
everywhere within `SECRET_MAX_AGE_SECONDS` (at once in this instance). The key is never echoed, logged or measured: the
answer says that it is set, when and by whom; `GET /v1/status` says the same of each key. In local mode
(`GATEWAY_MODE=local`) an environment variable still overrides the secret.

`PUT` and `DELETE /v1/admin/keys/{api_key_id}/budget`: an API key's daily limits (`daily_usd`, `daily_requests`),
enforced with the gateway's caps by the same budget leases (`gateway.resilience.spend`).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from gateway.config.settings import get_settings
from gateway.core import clock
from gateway.core.errors import ConfigurationError, NotFoundError, StoreUnavailableError
from gateway.observability import logger
from gateway.providers.registry import PROVIDERS
from gateway.resilience.guards import resilience_for
from gateway.stores.key_budgets import KeyBudget, KeyBudgetStore
from gateway.stores.provider_state import KeyChange, ProviderStateStore
from gateway.stores.secrets import write_secret_field


class ProviderKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: SecretStr = Field(min_length=1, max_length=4096, description="the provider's key; never echoed or logged")

    @field_validator("key")
    @classmethod
    def _printable(cls, value: SecretStr) -> SecretStr:
        text = value.get_secret_value()
        if not all("!" <= char <= "~" for char in text):  # it goes into an HTTP header
            raise ValueError("must be printable ASCII without spaces")
        return value


class ProviderKeyOut(BaseModel):
    provider: str
    key_set: bool = True
    changed_at: float = Field(description="epoch seconds")
    changed_by: str = Field(description="the IAM principal that changed it")


def set_provider_key(provider: str, body: ProviderKeyIn, who: str) -> ProviderKeyOut:
    """Write `provider`'s key into the provider secret as its new version, and record when and by whom."""
    info = PROVIDERS.get(provider)
    if info is None:
        raise NotFoundError(f"no provider {provider!r}; one of {', '.join(PROVIDERS)}")
    settings = get_settings()
    if not settings.secret_name:
        raise ConfigurationError("PROVIDER_SECRET_NAME is not set: the provider keys have nowhere to go")
    write_secret_field(settings.secret_name, info.secret_key, body.key.get_secret_value(), settings.secret_max_age_s)
    change = KeyChange(provider=provider, changed_at=round(clock.wall(), 3), changed_by=who)
    if settings.state_table:
        try:
            ProviderStateStore(settings.state_table).record_key_change(change)
        except Exception as exc:  # the key is written: only its date could not be recorded
            logger.error("key change not recorded", extra={"provider": provider, "error": type(exc).__name__})
            raise StoreUnavailableError(
                "the key is written, but when it changed could not be recorded; send it again"
            ) from exc
    logger.info("provider key changed", extra={"admin": who, "provider": provider})
    return ProviderKeyOut(provider=provider, changed_at=change.changed_at, changed_by=who)


API_KEY_ID_PATTERN = r"^[A-Za-z0-9_-]{1,128}$"


class KeyBudgetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    daily_usd: float | None = Field(
        None, ge=0, le=1_000_000, allow_inf_nan=False, strict=True, description="USD per UTC day"
    )
    daily_requests: int | None = Field(
        None, ge=0, le=1_000_000_000, strict=True, description="requests that call a provider, per UTC day"
    )

    @field_validator("daily_usd")
    @classmethod
    def _ledger_units(cls, value: float | None) -> float | None:
        return round(value, 10) if value is not None else None  # the ledger counts 1e-10 USD

    @model_validator(mode="after")
    def _some_limit(self) -> KeyBudgetIn:
        if self.daily_usd is None and self.daily_requests is None:
            raise ValueError("give daily_usd, daily_requests or both (DELETE removes a key's budget)")
        return self


class KeyBudgetOut(BaseModel):
    api_key_id: str
    daily_usd: float | None
    daily_requests: int | None
    updated_at: float
    updated_by: str


def set_key_budget(api_key_id: str, body: KeyBudgetIn, who: str) -> KeyBudgetOut:
    """`PUT /v1/admin/keys/{api_key_id}/budget`: the key's own daily limits, in force everywhere within
    `CONFIG_MAX_AGE_SECONDS` (at once here)."""
    budget = KeyBudget(body.daily_usd, body.daily_requests, round(clock.wall(), 3), who)
    _budgets_store().put(api_key_id, budget)
    _learn(api_key_id, budget)
    logger.info("key budget set", extra={"admin": who, "api_key_id": api_key_id, "daily_usd": body.daily_usd,
                                         "daily_requests": body.daily_requests})  # fmt: skip
    return KeyBudgetOut(api_key_id=api_key_id, daily_usd=budget.daily_usd, daily_requests=budget.daily_requests,
                        updated_at=budget.updated_at, updated_by=who)  # fmt: skip


def delete_key_budget(api_key_id: str, who: str) -> None:
    """`DELETE /v1/admin/keys/{api_key_id}/budget`: the key is held to the gateway's caps only; 404 when it had no
    budget."""
    if not _budgets_store().delete(api_key_id):
        raise NotFoundError(f"API key {api_key_id} has no budget")
    _learn(api_key_id, None)
    logger.info("key budget removed", extra={"admin": who, "api_key_id": api_key_id})


def _learn(api_key_id: str, budget: KeyBudget | None) -> None:
    spend = resilience_for(get_settings()).spend
    if spend is not None and spend.budgets is not None:
        spend.budgets.learn(api_key_id, budget)


def _budgets_store() -> KeyBudgetStore:
    settings = get_settings()
    if not settings.state_table:
        raise ConfigurationError("PROVIDER_STATE_TABLE is not set: key budgets have nowhere to live")
    return KeyBudgetStore(settings.state_table)
