"""The provider keys in force: the provider secret (Secrets Manager, cached), each provider's key named by its
module; in local mode, environment variables override the secret, so a developer can bring their own keys."""

from __future__ import annotations

import os

from gateway.config.settings import Settings
from gateway.core.errors import ConfigurationError
from gateway.providers.base import ProviderKeys
from gateway.providers.registry import keys_from
from gateway.stores.secrets import read_secret_object


def load_provider_keys(settings: Settings) -> ProviderKeys:
    """Read the provider keys: from the secret in AWS; in local mode, environment variables win."""
    secret = None
    if settings.secret_name:
        secret = read_secret_object(settings.secret_name, settings.secret_max_age_s)
    elif settings.mode == "aws":
        raise ConfigurationError("PROVIDER_SECRET_NAME is not set: the provider keys have nowhere to come from")
    return keys_from(secret, settings.secret_name or "", os.environ if settings.mode == "local" else None)
