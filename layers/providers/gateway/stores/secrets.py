"""Provider keys from the one Secrets Manager secret, through a Powertools parameters provider (cached).

In local mode, environment variables override the secret, so a developer can bring their own keys.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from gateway.errors import ConfigurationError
from gateway.settings import Settings
from gateway.stores.aws import secrets_provider

REQUIRED_KEYS = ("GEMINI_API_KEY", "HUGGINGFACE_API_KEY")
OPTIONAL_KEYS = ("SLM_AUTH_BEARER",)


@dataclass(frozen=True)
class ProviderKeys:
    """The keys a provider needs; an empty value means that provider is not configured."""

    gemini: str = ""
    huggingface: str = ""
    slm_bearer: str = ""

    def values(self) -> list[str]:
        """Every non-empty key, so that error messages can be scrubbed of them."""
        return [v for v in (self.gemini, self.huggingface, self.slm_bearer) if v]

    def __repr__(self) -> str:  # never print a key, even by accident
        return "ProviderKeys(<redacted>)"


def _read_secret(name: str, max_age: int) -> dict[str, str]:
    from aws_lambda_powertools.utilities import parameters  # imports boto3: only when a secret is read

    try:
        raw = secrets_provider().get(name, max_age=max_age)
    except parameters.exceptions.GetParameterError as exc:
        reason = type(exc.__cause__).__name__ if exc.__cause__ else "unreadable"
        raise ConfigurationError(f"provider secret {name!r} could not be read ({reason})") from None
    try:
        data = json.loads(raw if isinstance(raw, str) else bytes(raw or b"").decode())
    except (ValueError, UnicodeDecodeError):
        raise ConfigurationError(f"provider secret {name!r} is not valid JSON") from None
    if not isinstance(data, dict):
        raise ConfigurationError(f"provider secret {name!r} must be a JSON object")
    missing = [k for k in REQUIRED_KEYS if k not in data]
    if missing:
        raise ConfigurationError(f"provider secret {name!r} lacks the keys: {', '.join(missing)}")
    wrong = [k for k in (*REQUIRED_KEYS, *OPTIONAL_KEYS) if k in data and not isinstance(data[k], str)]
    if wrong:
        raise ConfigurationError(f"provider secret {name!r} has non-string values for: {', '.join(wrong)}")
    return {k: data.get(k, "") for k in (*REQUIRED_KEYS, *OPTIONAL_KEYS)}


def load_provider_keys(settings: Settings) -> ProviderKeys:
    """Read the provider keys: from the secret in AWS; in local mode, environment variables win."""
    values: dict[str, str] = {}
    if settings.secret_name:
        values = _read_secret(settings.secret_name, settings.secret_max_age_s)
    elif settings.mode == "aws":
        raise ConfigurationError("PROVIDER_SECRET_NAME is not set: the provider keys have nowhere to come from")
    if settings.mode == "local":
        env_hf = os.environ.get("HUGGINGFACE_API_KEY") or os.environ.get("VLLM_API_KEY")
        overrides = {
            "GEMINI_API_KEY": os.environ.get("GEMINI_API_KEY"),
            "HUGGINGFACE_API_KEY": env_hf,
            "SLM_AUTH_BEARER": os.environ.get("SLM_AUTH_BEARER"),
        }
        values.update({k: v for k, v in overrides.items() if v})
    return ProviderKeys(
        gemini=values.get("GEMINI_API_KEY", ""),
        huggingface=values.get("HUGGINGFACE_API_KEY", ""),
        slm_bearer=values.get("SLM_AUTH_BEARER", ""),
    )
