"""The provider interface, what describes a provider to the rest of the gateway, and how failures are classified.

A provider is one module (`gateway.providers.<name>`) that declares a `ProviderInfo` (its settings fields,
its key's name in the secret, its daily cap, how to build its SDK client and, where it has one, its embedder)
and is listed once in `gateway.providers.registry`.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

from pydantic import BaseModel

from gateway.core.errors import short


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
    KEY_BUDGET_EXHAUSTED = "key_budget_exhausted"  # the API key's own daily budget has no room
    LEDGER_UNAVAILABLE = "ledger_unavailable"  # the spend ledger could not be written: the cap could not be checked


@dataclass(frozen=True)
class ToolCall:
    """A call of one of the request's tools, as a model asked for it: `arguments` is a JSON object's text."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class Tool:
    """A function the model may call: its name, what it does, its parameters as a JSON schema."""

    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None


@dataclass(frozen=True)
class Message:
    """One turn of a conversation (OpenAI's roles): an assistant turn may carry tool calls, a tool turn answers one."""

    role: Literal["system", "user", "assistant", "tool"]
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None


@dataclass(frozen=True)
class GenerationRequest:
    """What the gateway asks of a provider. `json_schema` asks for structured output, `json_object` for any JSON
    object; `messages`, when given, is the whole conversation (`prompt` is then its last user turn, `system` its
    system turns joined); `tools` the functions the model may call (`tool_choice`: auto, none, required, or a tool's
    name that it must call)."""

    prompt: str
    system: str | None = None
    max_output_tokens: int = 1024
    temperature: float | None = None
    json_schema: dict[str, Any] | None = None
    schema_name: str = "answer"
    messages: tuple[Message, ...] = ()
    top_p: float | None = None
    stop: tuple[str, ...] = ()
    seed: int | None = None
    json_object: bool = False
    tools: tuple[Tool, ...] = ()
    tool_choice: str | None = None

    def conversation(self) -> list[Message]:
        """The turns after the system instruction: `messages` less its system turns, else the prompt as one."""
        if self.messages:
            return [message for message in self.messages if message.role != "system"]
        return [Message("user", self.prompt)]

    def text_sent(self) -> str:
        """Everything the request sends a model as text (to bound its input tokens)."""
        turns = [m.content + "".join(c.name + c.arguments for c in m.tool_calls) for m in self.conversation()]
        parts = [self.system or "", *turns, *(json.dumps([t.name, t.description, t.parameters]) for t in self.tools)]
        if self.json_schema is not None:
            parts.append(json.dumps(self.json_schema))
        return "".join(parts)

    def tool_name(self, call_id: str | None) -> str:
        """The name of the tool an earlier assistant turn called with this id ("" when none did)."""
        for message in self.messages:
            for call in message.tool_calls:
                if call.id == call_id:
                    return call.name
        return ""


FinishReason = Literal["stop", "length", "tool_calls", "content_filter"]


@dataclass(frozen=True)
class Generation:
    """A provider's answer with its own usage figures (`usage_reported` False: it gave none that could be read, so
    the call is settled at its reservation), the tools it asked to call, and why it stopped."""

    text: str
    input_tokens: int
    output_tokens: int
    usage_reported: bool = True
    tool_calls: tuple[ToolCall, ...] = ()
    finish_reason: FinishReason = "stop"


@dataclass(frozen=True)
class Delta:
    """One piece of a streamed answer: text, complete tool calls, and, on the last piece, why it stopped and the
    usage the provider reported (None: it reported none)."""

    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    finish_reason: FinishReason | None = None
    usage: Generation | None = None

    @property
    def has_content(self) -> bool:
        return bool(self.text or self.tool_calls)


@dataclass
class ProviderError(Exception):
    """A failed provider call, classified so that the chain can decide what to do next."""

    outcome: Outcome
    message: str
    status: int | None = None
    retry_after_s: float | None = field(default=None)
    billed: Generation | None = None  # the usage of an answer that came but is refused (blocked, empty): it costs
    bill_unknown: bool = False  # an answer came (and may be billed) but its usage could not be read

    def __str__(self) -> str:
        return f"{self.outcome}: {self.message}"


@dataclass(frozen=True)
class ProviderSpec:
    """One model at one provider, as configured. `key` is never printed."""

    name: str
    model: str
    base_url: str
    timeout_ms: int
    key: str = field(default="", repr=False)
    configured: bool = False

    @property
    def base_url_host(self) -> str:
        return urlsplit(self.base_url).hostname or ""


class ProviderKeys:
    """Each provider's key, by provider name (`ProviderKeys(gemini="...")`); a provider without one is not
    configured. Never printed."""

    __slots__ = ("_keys",)

    def __init__(self, **keys: str) -> None:
        self._keys = {name: key for name, key in keys.items() if key}

    def get(self, provider: str) -> str:
        return self._keys.get(provider, "")

    def values(self) -> list[str]:
        """Every non-empty key, so that error messages can be scrubbed of them."""
        return list(self._keys.values())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ProviderKeys) and other._keys == self._keys

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._keys.items())))

    def __repr__(self) -> str:  # never print a key, even by accident
        return "ProviderKeys(<redacted>)"


class Provider(Protocol):
    """One model at one provider. Implementations wrap an official SDK."""

    name: str
    model: str
    base_url: str

    async def generate(self, request: GenerationRequest) -> Generation:
        """Answer the request, or raise ProviderError."""
        ...

    def stream(self, request: GenerationRequest) -> AsyncIterator[Delta]:
        """Answer the request piece by piece (an async generator), the last piece with its finish reason and usage;
        raise ProviderError, before or after pieces, when it fails (a stream that ends without a finish reason was
        cut: `connection_error`)."""
        ...

    async def probe(self) -> None:
        """The cheapest call that proves the provider answers; raise ProviderError when not."""
        ...


class Embedder(Protocol):
    """Turns a text into a unit vector; vectors of different `name`s are not comparable."""

    name: str

    async def embed(self, text: str) -> list[float]: ...


class BatchEmbedder(Embedder, Protocol):
    """A provider's embedder: one model, many texts in one call (`POST /v1/embeddings`)."""

    model: str

    async def embed_many(self, texts: list[str], dimensions: int | None, task: str | None = None) -> list[list[float]]:
        """Unit vectors for many texts in one call (`dimensions` None: the model's own)."""
        ...


@dataclass(frozen=True)
class ProviderInfo[S: BaseModel]:
    """Everything the gateway knows of one provider, declared by its own module.

    `settings` is the pydantic model of its environment fields (part of `gateway.config.settings.Settings`);
    the callables take the whole settings, typed as these fields.
    """

    name: str
    settings: type[S]
    secret_key: str  # the name of its key in the provider secret (JSON)
    key_required: bool  # whether the secret must hold that name (it may still be empty)
    env_keys: tuple[str, ...]  # in local mode, the environment variables that override the secret (first set wins)
    spec: Callable[[S, str, int], ProviderSpec]  # (settings, key, the default timeout in ms) -> its spec
    daily_cost_limit: Callable[[S], float | None]  # its own daily cap (AI_DAILY_COST_LIMIT_<NAME>), None: none
    build: Callable[[ProviderSpec], Provider]  # its SDK client for a spec (the SDK is imported here, not before)
    embedder: Callable[[S, str, int], BatchEmbedder] | None = None  # (settings, key, timeout in ms) -> its embedder
    load_sdk: Callable[[], None] | None = None  # imports its SDK (before a SnapStart snapshot, `registry.load_sdks`)


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


def malformed(message: str, billed: Generation | None) -> ProviderError:
    """An answer in a shape the provider's documentation does not allow: counted by the breaker as a health failure,
    and settled from the usage it reports, else (`bill_unknown`) at its reservation."""
    return ProviderError(Outcome.MALFORMED_RESPONSE, message, billed=billed, bill_unknown=billed is None)


def stream_cut(pieces: int) -> ProviderError:
    """A stream that ended without a finish reason: the connection was cut (the answer is not whole)."""
    return ProviderError(Outcome.CONNECTION_ERROR, f"the stream ended without a finish reason after {pieces} pieces")


def token_count(value: object) -> int | None:
    """A token count as a provider may send it (a number, or a number in a string); None when it is neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value >= 0:
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


# What a response parser raises on a shape it did not expect (a string where an object belongs, a missing key).
PARSE_ERRORS = (AttributeError, TypeError, KeyError, IndexError, ValueError)


def transport_or_unreadable(exc: BaseException) -> ProviderError | None:
    """A transport failure, or an answer the SDK could not read (its parser raised on the shape: the call may have
    been billed); None for anything else, which is the gateway's own bug and is re-raised."""
    outcome = outcome_for_transport_error(exc)
    if outcome is Outcome.MALFORMED_RESPONSE or (outcome is None and isinstance(exc, PARSE_ERRORS)):
        return malformed(short(f"the answer could not be read ({type(exc).__name__}: {exc})"), None)
    return ProviderError(outcome, short(f"{type(exc).__name__}: {exc}")) if outcome is not None else None


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
