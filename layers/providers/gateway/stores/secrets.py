"""The provider secret: one Secrets Manager secret holding a JSON object, read through a Powertools parameters
provider (cached for `max_age` seconds). Which names it holds is each provider's to say (`gateway.config.keys`).
"""

from __future__ import annotations

import json
from typing import Any

from gateway.core.errors import ConfigurationError, StoreUnavailableError
from gateway.stores.aws import error_code, is_transient, secrets_provider


def read_secret_object(name: str, max_age: int, force: bool = False) -> dict[str, Any]:
    """The secret's JSON object (`force`: read now, not from the cache, which then holds it); a ConfigurationError
    naming the secret (never its value) when it cannot be one, a StoreUnavailableError when Secrets Manager could not
    answer for a passing reason (throttled, its own failure, the network): that is no error of the deployment, and
    the same request can be sent again."""
    from aws_lambda_powertools.utilities import parameters  # imports boto3: only when a secret is read

    try:
        raw = secrets_provider().get(name, max_age=max_age, force_fetch=force)
    except parameters.exceptions.GetParameterError as exc:
        cause = exc.__cause__ or exc.__context__  # Powertools raises it inside its `except`, without `from`
        reason = (error_code(cause) or type(cause).__name__) if cause else "unreadable"
        if cause is not None and is_transient(cause):
            raise StoreUnavailableError(f"provider secret {name!r} could not be read now ({reason})") from None
        raise ConfigurationError(f"provider secret {name!r} could not be read ({reason})") from None
    try:
        data = json.loads(raw if isinstance(raw, str) else bytes(raw or b"").decode())
    except (ValueError, UnicodeDecodeError):
        raise ConfigurationError(f"provider secret {name!r} is not valid JSON") from None
    if not isinstance(data, dict):
        raise ConfigurationError(f"provider secret {name!r} must be a JSON object")
    return data


def write_secret_field(name: str, field: str, value: str, max_age: int, attempts: int = 3) -> str:
    """Set one field of the secret's JSON object as its new current version (Powertools `set`); its version id.

    Secrets Manager has no conditional write: two admins setting different fields at once could each write a version
    without the other's field. So the secret is read back after the write, and written again (from what is current
    then) until it holds the value. This instance's cache then holds the new version; the others read it within
    their `max_age`. The value never appears in an error or a log line.
    """
    import uuid

    from aws_lambda_powertools.utilities import parameters  # imports boto3: only when a secret is written

    provider = secrets_provider()
    for _ in range(attempts):
        current = read_secret_object(name, max_age=0, force=True)
        try:
            written = provider.set(name, {**current, field: value}, client_request_token=str(uuid.uuid4()))
        except parameters.exceptions.SetSecretError as exc:
            reason = type(exc.__cause__).__name__ if exc.__cause__ else "unwritable"
            raise StoreUnavailableError(f"provider secret {name!r} could not be written ({reason})") from None
        if read_secret_object(name, max_age=max_age, force=True).get(field) == value:  # cached here from now on
            return str(written.get("VersionId", ""))
    raise StoreUnavailableError(f"provider secret {name!r} kept changing while it was written; send it again")
