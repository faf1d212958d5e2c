"""`PUT /v1/admin/providers/{provider}/key` (IAM-authorised in API Gateway): a provider's key written as a new version
of the provider secret, in use everywhere within `SECRET_MAX_AGE_SECONDS` (at once in this instance). The key is never
echoed, logged or measured: the answer says that it is set, when and by whom; `GET /v1/status` says the same of each
key. In local mode (`GATEWAY_MODE=local`) an environment variable still overrides the secret.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from gateway.config.settings import get_settings
from gateway.core import clock
from gateway.core.errors import ConfigurationError, NotFoundError, StoreUnavailableError
from gateway.observability import logger
from gateway.providers.registry import PROVIDERS
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
