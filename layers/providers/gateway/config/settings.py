"""The settings of a function: the gateway's own fields and each provider's, read once from the environment, with the
runtime configuration's fields over them (`gateway.config.runtime`: changed without a redeploy)."""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from functools import lru_cache
from typing import Any

from pydantic import ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from gateway.config.runtime import RUNTIME_NAMES, in_force
from gateway.core.errors import ConfigurationError, FieldsInvalidError
from gateway.core.settings import SETTINGS_CONFIG, GatewaySettings
from gateway.observability import logger
from gateway.providers.gemini import GeminiSettings
from gateway.providers.huggingface import HuggingFaceSettings
from gateway.providers.slm import SlmSettings
from gateway.stores.runtime_config import ConfigVersion

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


def with_overrides(base: Settings, document: Mapping[str, Any]) -> Settings:
    """`base` with a runtime document's values over it (environment names, JSON values), validated by the same model
    as the environment; FieldsInvalidError naming each field at fault (a name that cannot change at runtime too)."""
    problems = [
        {"field": name, "message": f"not a setting that can change at runtime; one of {', '.join(RUNTIME_NAMES)}"}
        for name in document
        if name not in RUNTIME_NAMES
    ]
    problems += [
        {"field": name, "message": "must not be empty (null gives the setting back to the environment)"}
        for name, value in document.items()
        if name in RUNTIME_NAMES and (value is None or value == "")
    ]
    if problems:
        raise FieldsInvalidError(_invalid(problems), details=problems)
    token = _ENVIRONMENT_GIVEN.set(True)
    try:
        return Settings.model_validate({**base.model_dump(by_alias=True), **document})
    except ValidationError as exc:
        problems = [
            {"field": ".".join(str(p) for p in e["loc"]) or "document", "message": str(e["msg"])} for e in exc.errors()
        ]
        raise FieldsInvalidError(_invalid(problems), details=problems) from None
    finally:
        _ENVIRONMENT_GIVEN.reset(token)


def _invalid(problems: list[dict[str, str]]) -> str:
    return "invalid configuration: " + "; ".join(f"{p['field']}: {p['message']}" for p in problems)


@lru_cache(maxsize=1)
def environment_settings() -> Settings:
    """The process's settings from its environment, read once (a Lambda instance's environment does not change)."""
    return load_settings()


class _SettingsInForce:
    """`get_settings()`: the environment's settings with the runtime configuration's version in force over them.

    The version is read at most once per `CONFIG_MAX_AGE_SECONDS` (`gateway.config.runtime.in_force`), and the
    settings of a version are built once: a call is a clock read and two identity checks. Without a state table
    there is no runtime configuration.
    """

    def __init__(self) -> None:
        self._applied: tuple[Settings, ConfigVersion, Settings] | None = None  # (base, version, settings)

    def __call__(self) -> Settings:
        base = environment_settings()
        if not base.state_table:
            return base
        version = in_force.version(base.state_table, base.config_max_age_s)
        applied = self._applied
        if applied is not None and applied[0] is base and applied[1] is version:
            return applied[2]
        settings = base
        if version.document:
            try:
                settings = with_overrides(base, version.document)
            except FieldsInvalidError as exc:  # valid where it was written, not over this function's environment
                logger.error("runtime configuration not applied", extra={"version": version.version,
                                                                         "error": exc.message})  # fmt: skip
        self._applied = (base, version, settings)
        return settings

    def version(self) -> ConfigVersion:
        """The runtime configuration's version in force here (version 0: the environment alone)."""
        base = environment_settings()
        return in_force.version(base.state_table, base.config_max_age_s) if base.state_table else ConfigVersion(0)

    def cache_clear(self) -> None:
        """Forget the environment and the versions read (tests that change the environment)."""
        environment_settings.cache_clear()
        in_force.forget()
        self._applied = None


get_settings = _SettingsInForce()
"""The settings in force in this process: the environment's, with the runtime configuration over them."""
