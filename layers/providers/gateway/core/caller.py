"""Who the request in progress is for: the API key it came with, as API Gateway identified it.

Set once per request where its context is built (`gateway.config.context.RequestContext.for_invocation`) and read
by the guards every provider call goes through (`gateway.resilience.spend`: the key's budget and usage), so that an
endpoint, or a caller that streams and guards its calls itself, never passes it along. A context variable: each
request (an asyncio task, or the synchronous handling of one queued job) sees its own, and every Lambda entry starts
from none (`begin(None)`), so a request never inherits the one before it.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass
class Caller:
    """The API key a request came with (its id, never its value), and whether the request was counted yet."""

    api_key_id: str | None
    request_id: str
    counted: bool = False  # counted once against the key's daily requests and usage, at its first provider call


_current: ContextVar[Caller | None] = ContextVar("caller", default=None)


def begin(caller: Caller | None) -> None:
    """The caller of the request that starts now (None: no request, or one without a key)."""
    _current.set(caller)


def current() -> Caller | None:
    return _current.get()
