"""A request's deadline: when its answer must be ready, from the Lambda's remaining time and API Gateway's limit."""

from __future__ import annotations

import time
from dataclasses import dataclass

API_GATEWAY_LIMIT_S = 29.0
ANSWER_MARGIN_S = 0.5


@dataclass(frozen=True)
class Deadline:
    """When the request must have its answer, on the monotonic clock."""

    expires_at: float

    @classmethod
    def for_request(cls, lambda_remaining_ms: int | None, limit_s: float | None = None) -> Deadline:
        """API Gateway's 29 s limit (`limit_s` for an answer it streams) or the Lambda's remaining time, less a
        margin to answer."""
        budget = API_GATEWAY_LIMIT_S if limit_s is None else limit_s
        if lambda_remaining_ms is not None:
            budget = min(budget, lambda_remaining_ms / 1000)
        return cls(time.monotonic() + budget - ANSWER_MARGIN_S)

    def remaining(self) -> float:
        return self.expires_at - time.monotonic()
