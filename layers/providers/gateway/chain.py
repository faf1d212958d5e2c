"""The fallback chain: try each configured provider in order within the request's deadline."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from aws_lambda_powertools.metrics import MetricUnit

from gateway.errors import AllProvidersFailedError, DeadlineExceededError, NoProviderConfiguredError
from gateway.observability import logger, metrics
from gateway.providers.base import Generation, GenerationRequest, Outcome, ProviderError, short
from gateway.providers.registry import ProviderSpec, get_provider

T = TypeVar("T")

API_GATEWAY_LIMIT_S = 29.0
ANSWER_MARGIN_S = 0.5
MIN_ATTEMPT_S = 0.05


class OutputRejectedError(ValueError):
    """A provider answered, but the answer is not what was asked for (bad JSON, wrong count...)."""


@dataclass(frozen=True)
class Deadline:
    """When the request must have its answer, on the monotonic clock."""

    expires_at: float

    @classmethod
    def for_request(cls, lambda_remaining_ms: int | None) -> Deadline:
        """API Gateway's 29 s limit or the Lambda's remaining time, less a margin to answer."""
        budget = API_GATEWAY_LIMIT_S
        if lambda_remaining_ms is not None:
            budget = min(budget, lambda_remaining_ms / 1000)
        return cls(time.monotonic() + budget - ANSWER_MARGIN_S)

    def remaining(self) -> float:
        return self.expires_at - time.monotonic()


@dataclass(frozen=True)
class Attempt:
    provider: str
    model: str
    outcome: Outcome
    latency_ms: float
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "provider": self.provider,
            "model": self.model,
            "outcome": self.outcome.value,
            "latency_ms": self.latency_ms,
        }
        if self.error is not None:
            data["error"] = self.error
        return data


@dataclass(frozen=True)
class ChainResult(Generic[T]):
    value: T
    generation: Generation
    spec: ProviderSpec
    attempts: list[Attempt]

    @property
    def fallback_used(self) -> bool:
        return len(self.attempts) > 1


async def run_chain(
    specs: Sequence[ProviderSpec],
    request: GenerationRequest,
    parse: Callable[[str], T],
    deadline: Deadline,
    *,
    secrets: Sequence[str] = (),
) -> ChainResult[T]:
    """Ask each provider in turn; the first answer that `parse` accepts wins.

    `parse` raises OutputRejectedError (or ValueError) for an answer that must not be passed on; that
    attempt counts as failed and the next provider is tried. `secrets` are scrubbed from errors.
    """
    if not specs:
        raise NoProviderConfiguredError("no provider in this endpoint's chain is configured")
    attempts: list[Attempt] = []
    for spec in specs:
        budget = min(spec.timeout_ms / 1000, deadline.remaining())
        if budget < MIN_ATTEMPT_S:
            attempts.append(Attempt(spec.name, spec.model, Outcome.SKIPPED_DEADLINE, 0.0, "no time left"))
            continue
        started = time.perf_counter()
        try:
            generation = await asyncio.wait_for(get_provider(spec).generate(request), timeout=budget)
            value = parse(generation.text)
        except TimeoutError:
            attempts.append(_attempt(spec, Outcome.TIMEOUT, started, f"no answer within {budget:.2f} s"))
        except ProviderError as exc:
            attempts.append(_attempt(spec, exc.outcome, started, scrub(exc.message, secrets)))
        except ValueError as exc:
            attempts.append(_attempt(spec, Outcome.INVALID_OUTPUT, started, scrub(short(exc), secrets)))
        else:
            attempts.append(_attempt(spec, Outcome.OK, started))
            if len(attempts) > 1:
                metrics.add_metric(name="Fallbacks", unit=MetricUnit.Count, value=1)
            return ChainResult(value, generation, spec, attempts)
        logger.warning("provider attempt failed", extra={"attempt": attempts[-1].as_dict()})
    details = {"attempts": [a.as_dict() for a in attempts]}
    if deadline.remaining() < MIN_ATTEMPT_S:
        raise DeadlineExceededError("the request ran out of time before a provider answered", details=details)
    raise AllProvidersFailedError("every provider in the chain failed", details=details)


def _attempt(spec: ProviderSpec, outcome: Outcome, started: float, error: str | None = None) -> Attempt:
    latency_ms = round((time.perf_counter() - started) * 1000, 2)
    return Attempt(spec.name, spec.model, outcome, latency_ms, error)


def scrub(message: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        if secret:
            message = message.replace(secret, "***")
    return message
