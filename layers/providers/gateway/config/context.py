"""What every piece of endpoint logic needs to know about the request it serves."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.config.keys import load_provider_keys
from gateway.config.settings import Settings, get_settings
from gateway.core import caller
from gateway.core.deadline import Deadline
from gateway.providers.base import ProviderKeys


@dataclass(frozen=True)
class RequestContext:
    settings: Settings
    keys: ProviderKeys
    request_id: str
    deadline: Deadline
    api_key_id: str | None = None  # the API key the request came with (API Gateway's `identity.apiKeyId`)

    @classmethod
    def for_invocation(
        cls, request_id: str, lambda_remaining_ms: int | None, api_key_id: str | None = None, streamed: bool = False
    ) -> RequestContext:
        """The settings in force and the keys (both cached), a deadline from the Lambda's remaining time (for an
        answer API Gateway streams, `CHAT_DEADLINE_SECONDS` in place of its 29 s), and the caller: the API key whose
        budget and usage every provider call of this request counts against."""
        settings = get_settings()
        caller.begin(caller.Caller(api_key_id, request_id))
        limit = settings.chat_deadline_s if streamed else None
        deadline = Deadline.for_request(lambda_remaining_ms, limit_s=limit)
        return cls(settings, load_provider_keys(settings), request_id, deadline, api_key_id)
