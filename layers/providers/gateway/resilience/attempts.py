"""One provider attempt as the chain records it, the chain's result, and the attempt's metrics and trace."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.core.catalogue import cost_usd
from gateway.observability import logger, put_metrics_record, trace_subsegment
from gateway.providers.base import Generation, Outcome, ProviderSpec

# How an attempt's outcome shows in a trace: a fault is the provider's (5xx-like), an error the
# request's (4xx-like); the skipped outcomes made no call and carry neither.
_FAULTS = frozenset({"timeout", "connection_error", "server_error", "malformed_response", "empty_response"})
_ERRORS = frozenset({"rate_limited", "auth_error", "invalid_request", "blocked", "invalid_output"})


class OutputRejectedError(ValueError):
    """A provider answered, but the answer is not what was asked for (bad JSON, wrong count...)."""


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
class ChainResult[T]:
    value: T
    generation: Generation
    spec: ProviderSpec
    attempts: list[Attempt]

    @property
    def fallback_used(self) -> bool:
        """Whether another provider or model answered than the first one tried (a retry is not a fallback)."""
        first = self.attempts[0]
        return (first.provider, first.model) != (self.spec.name, self.spec.model)


def observe_attempt(attempt: Attempt, *, called: bool, generation: Generation | None = None) -> None:
    """The attempt's EMF record (its `provider` dimension on its metrics only) and X-Ray subsegment.

    `called`: a request reached the provider. Metrics: `ProviderAttempts`, `ProviderAnswers`, `ProviderFailures`,
    `ProviderSkips`, `ProviderLatency` (ms), `InputTokens`, `OutputTokens`, `CostUsd`.
    """
    outcome = str(attempt.outcome)
    values: list[tuple[str, str, float]] = [("ProviderAttempts", "Count", 1)]
    if outcome == "ok":
        values.append(("ProviderAnswers", "Count", 1))
    elif called:
        values.append(("ProviderFailures", "Count", 1))
    else:
        values.append(("ProviderSkips", "Count", 1))
    if called:
        values.append(("ProviderLatency", "Milliseconds", attempt.latency_ms))
    if generation is not None:  # the provider answered (and billed), even when the answer was then rejected
        values.append(("InputTokens", "Count", generation.input_tokens))
        values.append(("OutputTokens", "Count", generation.output_tokens))
        cost = cost_usd(attempt.model, generation.input_tokens, generation.output_tokens)
        if cost is not None:
            values.append(("CostUsd", "None", cost))
    request_id = logger.get_correlation_id()
    tagged = {"request_id": request_id} if request_id else {}
    put_metrics_record({"provider": attempt.provider}, values, {"model": attempt.model, "outcome": outcome, **tagged})
    trace_subsegment(
        attempt.provider,
        attempt.latency_ms,
        fault=outcome in _FAULTS,
        error=outcome in _ERRORS,
        throttle=outcome == "rate_limited",
        annotations={"provider": attempt.provider, "model": attempt.model, "outcome": outcome, **tagged},
        metadata={"gateway": {"error": attempt.error}} if attempt.error else {},
    )
