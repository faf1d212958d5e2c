"""Domain errors, and how an error message is shortened. `gateway.http.app` is the one place that maps them to
HTTP responses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class GatewayError(Exception):
    """An error a client should see, with an HTTP status and a stable code."""

    status_code = 500
    code = "internal_error"

    def __init__(self, message: str, *, details: Any = None, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        self.headers = dict(headers or {})  # sent with the error (`Retry-After`, `ETag`)


class ConfigurationError(GatewayError):
    """The deployment is misconfigured (a missing setting or secret); names what is missing."""

    status_code = 500
    code = "configuration_error"


class InvalidRequestError(GatewayError):
    """The request is well-formed JSON but asks for something impossible."""

    status_code = 422
    code = "invalid_request"


class FieldsInvalidError(GatewayError):
    """Input that breaks the rules of its fields; `details` names each ([{field, message}]), as FastAPI's 422 does."""

    status_code = 422
    code = "validation_error"


class NotFoundError(GatewayError):
    status_code = 404
    code = "not_found"


class PreconditionFailedError(GatewayError):
    """`If-Match` names a version that is no longer the one in force: nothing was changed."""

    status_code = 412
    code = "precondition_failed"


class PreconditionRequiredError(GatewayError):
    """A change that must say which version it changes (`If-Match`), and did not."""

    status_code = 428
    code = "precondition_required"


class ApiKeyRequiredError(GatewayError):
    """What only an API key's own request may ask (its usage, a rating of its answer) came without one."""

    status_code = 403
    code = "api_key_required"


class KeyBudgetExhaustedError(GatewayError):
    """The API key's own daily budget (spend or requests) has no room for the request; another key is unaffected."""

    status_code = 429
    code = "key_budget_exhausted"


class PayloadTooLargeError(GatewayError):
    status_code = 413
    code = "payload_too_large"


class UnsupportedMediaTypeError(GatewayError):
    """A body that is not declared as JSON (`Content-Type: application/json`)."""

    status_code = 415
    code = "unsupported_media_type"


class BodyEncodingError(GatewayError):
    """A body whose bytes are not UTF-8: refused, never repaired and passed on."""

    status_code = 400
    code = "invalid_encoding"


class NoProviderConfiguredError(GatewayError):
    """No provider in the chain is configured, so nothing was attempted."""

    status_code = 503
    code = "no_provider_configured"


class AllProvidersFailedError(GatewayError):
    """Every provider in the chain was tried and failed; `details` lists the attempts."""

    status_code = 502
    code = "all_providers_failed"


class StreamInterruptedError(GatewayError):
    """The provider failed after its answer began streaming (an error, a silence past its time, a dropped
    connection): what was sent is not an answer; `details` lists the attempts."""

    status_code = 502
    code = "provider_stream_failed"


class DeadlineExceededError(GatewayError):
    """The request's time budget ran out before any provider answered."""

    status_code = 504
    code = "deadline_exceeded"


class ModelNotFoundError(NotFoundError):
    """A model the gateway does not serve (GET /v1/models lists those it does)."""

    code = "model_not_found"


class JobNotFoundError(NotFoundError):
    pass


class SpendCapReachedError(GatewayError):
    """Every provider that could answer is held back by the daily spend cap."""

    status_code = 429
    code = "spend_cap_reached"


class ProvidersUnavailableError(GatewayError):
    """Every provider in the chain is skipped (circuit open, held back by the spend cap, or the spend ledger could not
    be written to check the cap)."""

    status_code = 503
    code = "providers_unavailable"


class StoreUnavailableError(GatewayError):
    """A store the request cannot do without (the job store, the job queue) could not be reached: nothing was done,
    and the same request can be sent again."""

    status_code = 503
    code = "store_unavailable"


def short(text: object, limit: int = 200) -> str:
    """A one-line, bounded rendering of an error message (for `attempts`, job errors and logs)."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
