"""What every piece of endpoint logic needs to know about the request it serves."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.config.keys import load_provider_keys
from gateway.config.settings import Settings, get_settings
from gateway.core.deadline import Deadline
from gateway.providers.base import ProviderKeys


@dataclass(frozen=True)
class RequestContext:
    settings: Settings
    keys: ProviderKeys
    request_id: str
    deadline: Deadline

    @classmethod
    def for_invocation(cls, request_id: str, lambda_remaining_ms: int | None, streamed: bool = False) -> RequestContext:
        """The process's settings and keys (both cached), and a deadline from the Lambda's remaining time (for an
        answer API Gateway streams, `CHAT_DEADLINE_SECONDS` in place of its 29 s)."""
        settings = get_settings()
        limit = settings.chat_deadline_s if streamed else None
        deadline = Deadline.for_request(lambda_remaining_ms, limit_s=limit)
        return cls(settings, load_provider_keys(settings), request_id, deadline)
