"""The provider secret: one Secrets Manager secret holding a JSON object, read through a Powertools parameters
provider (cached for `max_age` seconds). Which names it holds is each provider's to say (`gateway.config.keys`).
"""

from __future__ import annotations

import json
from typing import Any

from gateway.core.errors import ConfigurationError
from gateway.stores.aws import secrets_provider


def read_secret_object(name: str, max_age: int) -> dict[str, Any]:
    """The secret's JSON object; a ConfigurationError naming the secret (never its value) when it cannot be one."""
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
    return data
