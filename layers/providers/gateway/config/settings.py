"""The settings of a function: the gateway's own fields and each provider's, read once from the environment."""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from functools import lru_cache

from pydantic import ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from gateway.core.errors import ConfigurationError
from gateway.core.settings import SETTINGS_CONFIG, GatewaySettings
from gateway.providers.gemini import GeminiSettings
from gateway.providers.huggingface import HuggingFaceSettings
from gateway.providers.slm import SlmSettings

_ENVIRONMENT_GIVEN: ContextVar[bool] = ContextVar("environment_given", default=False)


class Settings(GatewaySettings, SlmSettings, GeminiSettings, HuggingFaceSettings):
    """Everything a function reads from its environment (one provider's fields: in its module)."""

    model_config = SETTINGS_CONFIG

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """The process environment, unless `load_settings` was given one."""
        return (init_settings,) if _ENVIRONMENT_GIVEN.get() else (init_settings, env_settings)


ENVIRONMENT_NAMES = frozenset(field.alias for field in Settings.model_fields.values() if field.alias)
"""Every environment variable the settings read."""


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from an environment (the process's by default); a bad value is a ConfigurationError naming it."""
    token = _ENVIRONMENT_GIVEN.set(environ is not None)
    try:
        if environ is None:
            return Settings()
        # As from the process environment: only the settings' names, and an empty value is unset.
        given = {name: value for name, value in environ.items() if name in ENVIRONMENT_NAMES and value}
        return Settings.model_validate(given)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConfigurationError(f"invalid configuration: {problems}") from None
    finally:
        _ENVIRONMENT_GIVEN.reset(token)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once (a Lambda instance's environment does not change)."""
    return load_settings()
