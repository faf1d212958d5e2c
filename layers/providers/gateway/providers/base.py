"""The provider interface, the request and answer types, and how failures are classified."""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol


class Outcome(StrEnum):
    """What one attempt at one provider came to; each is reported as-is in `attempts`."""

    OK = "ok"
    TIMEOUT = "timeout"
    CONNECTION_ERROR = "connection_error"
    RATE_LIMITED = "rate_limited"
    SERVER_ERROR = "server_error"
    AUTH_ERROR = "auth_error"
    INVALID_REQUEST = "invalid_request"
    BLOCKED = "blocked"
    MALFORMED_RESPONSE = "malformed_response"
    EMPTY_RESPONSE = "empty_response"
    INVALID_OUTPUT = "invalid_output"
    SKIPPED_DEADLINE = "skipped_deadline"
    CIRCUIT_OPEN = "circuit_open"
    BUDGET_EXCEEDED = "budget_exceeded"


@dataclass(frozen=True)
class GenerationRequest:
    """What the gateway asks of a provider. `json_schema` asks for structured output."""

    prompt: str
    system: str | None = None
    max_output_tokens: int = 1024
    temperature: float | None = None
    json_schema: dict[str, Any] | None = None
    schema_name: str = "answer"


@dataclass(frozen=True)
class Generation:
    """A provider's answer with its own usage figures."""

    text: str
    input_tokens: int
    output_tokens: int


@dataclass
class ProviderError(Exception):
    """A failed provider call, classified so that the chain can decide what to do next."""

    outcome: Outcome
    message: str
    status: int | None = None
    retry_after_s: float | None = field(default=None)
    billed: Generation | None = None  # the usage of an answer that came but is refused (blocked, empty): it costs

    def __str__(self) -> str:
        return f"{self.outcome}: {self.message}"


class Provider(Protocol):
    """One model at one provider. Implementations wrap an official SDK."""

    name: str
    model: str
    base_url: str

    async def generate(self, request: GenerationRequest) -> Generation:
        """Answer the request, or raise ProviderError."""
        ...

    async def probe(self) -> None:
        """The cheapest call that proves the provider answers; raise ProviderError when not."""
        ...


def outcome_for_status(status: int) -> Outcome:
    """Map an HTTP status from a provider to an outcome."""
    if status in (401, 403):
        return Outcome.AUTH_ERROR
    if status == 408:
        return Outcome.TIMEOUT
    if status == 429:
        return Outcome.RATE_LIMITED
    if status >= 500:
        return Outcome.SERVER_ERROR
    return Outcome.INVALID_REQUEST


def outcome_for_transport_error(exc: BaseException) -> Outcome | None:
    """Classify httpx/httpx2 transport errors without importing either.

    Both SDKs send through httpx2 (a fork of httpx) and the sLM client through httpx; their exception
    classes share names, so matching on the class hierarchy's names covers all three.
    """
    names = {cls.__name__ for cls in type(exc).__mro__}
    if "TimeoutException" in names or "InferenceTimeoutError" in names:
        return Outcome.TIMEOUT
    if "TransportError" in names:
        return Outcome.CONNECTION_ERROR
    if "DecodingError" in names or isinstance(exc, ValueError):
        return Outcome.MALFORMED_RESPONSE
    return None


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def short(text: object, limit: int = 200) -> str:
    """A one-line, bounded rendering of an error message for `attempts`."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
