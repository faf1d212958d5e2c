"""The OpenAI chat-completions request, as the gateway accepts it (docs/openai.md lists the fields).

Modelled on the `openai` SDK's own types (`openai.types.chat.completion_create_params`) but written as pydantic
models here: importing the SDK's types imports the whole `openai` package, about 320 ms of every cold start on this
machine, for a function that never calls OpenAI. The tests check every answer against the SDK's types.

Every field the gateway cannot honour is refused with a 400 naming it, never silently dropped: `n` above 1, audio,
log probabilities, penalties, logit biases, predictions, web search, the deprecated `functions`, and any field the
API does not have.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from gateway.core.errors import InvalidRequestError


class UnsupportedFieldError(InvalidRequestError):
    """A field the gateway cannot honour: refused rather than dropped (400, naming it)."""

    status_code = 400
    code = "unsupported_parameter"

    def __init__(self, field: str, why: str) -> None:
        super().__init__(f"{field} is not supported by this gateway: {why}", details={"param": field})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TextPart(_Strict):
    type: Literal["text"]
    text: str


class FunctionCallOut(_Strict):
    name: str = Field(min_length=1, max_length=64)
    arguments: str


class ToolCallIn(_Strict):
    id: str = Field(min_length=1, max_length=128)
    type: Literal["function"] = "function"
    function: FunctionCallOut


class ChatMessage(_Strict):
    """One message: system (or developer), user, assistant (text and/or tool calls) or tool (a call's answer)."""

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[TextPart] | None = None
    tool_calls: list[ToolCallIn] | None = None
    tool_call_id: str | None = Field(None, min_length=1, max_length=128)

    @field_validator("content", mode="before")
    @classmethod
    def _text_parts_only(cls, value: Any) -> Any:
        for part in value if isinstance(value, list) else []:
            kind = part.get("type") if isinstance(part, dict) else None
            if kind != "text":
                raise ValueError(f"content parts of type {kind!r} are not supported; only text parts are")
        return value

    @model_validator(mode="after")
    def _shape_of_its_role(self) -> ChatMessage:
        if self.role == "tool" and self.tool_call_id is None:
            raise ValueError("a tool message needs the tool_call_id of the call it answers")
        if self.role != "tool" and self.tool_call_id is not None:
            raise ValueError("only a tool message has a tool_call_id")
        if self.tool_calls and self.role != "assistant":
            raise ValueError("only an assistant message has tool_calls")
        if self.content is None and not (self.role == "assistant" and self.tool_calls):
            raise ValueError("content is required (only an assistant message with tool_calls may omit it)")
        return self

    @property
    def text(self) -> str:
        content = self.content
        return "".join(part.text for part in content) if isinstance(content, list) else content or ""


class FunctionDefinition(_Strict):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class ToolDefinition(_Strict):
    type: Literal["function"]
    function: FunctionDefinition


class NamedFunction(_Strict):
    name: str


class NamedToolChoice(_Strict):
    type: Literal["function"]
    function: NamedFunction


class JsonSchemaFormat(_Strict):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    description: str | None = None
    schema_: dict[str, Any] = Field(alias="schema")
    strict: bool | None = None


class ResponseFormat(_Strict):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: JsonSchemaFormat | None = None

    @model_validator(mode="after")
    def _schema_with_its_type(self) -> ResponseFormat:
        if (self.type == "json_schema") != (self.json_schema is not None):
            raise ValueError("json_schema is given with, and only with, type json_schema")
        return self


class StreamOptions(_Strict):
    include_usage: bool | None = None
    include_obfuscation: bool | None = None


# Fields OpenAI's API has that the gateway cannot honour, and the value that asks nothing of it (None: absent).
_REFUSED: dict[str, tuple[Any, str]] = {
    "n": (1, "one choice per request"),
    "audio": (None, "text only"),
    "logprobs": (False, "the providers' log probabilities are not passed on"),
    "top_logprobs": (None, "the providers' log probabilities are not passed on"),
    "frequency_penalty": (0, "not passed on to every provider alike"),
    "presence_penalty": (0, "not passed on to every provider alike"),
    "logit_bias": (None, "token ids differ between providers"),
    "prediction": (None, "predicted outputs are OpenAI's"),
    "web_search_options": (None, "no web search"),
    "functions": (None, "use tools"),
    "function_call": (None, "use tool_choice"),
    "reasoning_effort": (None, "each model's thinking is set by the gateway"),
    "service_tier": (None, "OpenAI's"),
}


class ChatCompletionRequest(_Strict):
    """`POST /v1/chat/completions`."""

    model: str = Field(min_length=1, max_length=128, description="`auto`, or a model of `GET /v1/models`")
    messages: list[ChatMessage] = Field(min_length=1, max_length=512)
    stream: bool = False
    stream_options: StreamOptions | None = None
    temperature: float | None = Field(None, ge=0, le=2, allow_inf_nan=False)
    top_p: float | None = Field(None, gt=0, le=1, allow_inf_nan=False)
    max_tokens: int | None = Field(None, ge=1, le=8192, strict=True)
    max_completion_tokens: int | None = Field(None, ge=1, le=8192, strict=True)
    stop: str | list[str] | None = Field(None, description="up to 4 sequences")
    seed: int | None = Field(None, strict=True)
    user: str | None = Field(None, max_length=128)
    response_format: ResponseFormat | None = None
    tools: list[ToolDefinition] | None = Field(None, max_length=128)
    tool_choice: Literal["none", "auto", "required"] | NamedToolChoice | None = None
    parallel_tool_calls: bool | None = None
    # Accepted for the clients that send them; nothing is kept or metered by them.
    metadata: dict[str, str] | None = None
    store: bool | None = None
    # Refused unless they ask nothing (see _REFUSED).
    n: int | None = None
    audio: dict[str, Any] | None = None
    modalities: list[str] | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    logit_bias: dict[str, Any] | None = None
    prediction: dict[str, Any] | None = None
    web_search_options: dict[str, Any] | None = None
    functions: list[Any] | None = None
    function_call: Any = None
    reasoning_effort: str | None = None
    service_tier: str | None = None

    @field_validator("stop")
    @classmethod
    def _four_stops(cls, value: str | list[str] | None) -> str | list[str] | None:
        if isinstance(value, list) and len(value) > 4:
            raise ValueError("at most 4 stop sequences")
        return value

    def refuse_what_cannot_be_honoured(self) -> None:
        """UnsupportedFieldError naming the first field that asks what the gateway cannot do."""
        for field, (harmless, why) in _REFUSED.items():
            value = getattr(self, field)
            if value is not None and value != harmless:
                raise UnsupportedFieldError(field, why)
        if self.modalities not in (None, ["text"]):
            raise UnsupportedFieldError("modalities", "text only")
        if self.parallel_tool_calls is False:
            raise UnsupportedFieldError("parallel_tool_calls", "a model may answer with several tool calls")
        names = {tool.function.name for tool in self.tools or []}
        if isinstance(self.tool_choice, NamedToolChoice) and self.tool_choice.function.name not in names:
            raise UnsupportedFieldError("tool_choice", f"no tool is named {self.tool_choice.function.name!r}")
        if self.tool_choice is not None and not self.tools and self.tool_choice != "none":
            raise UnsupportedFieldError("tool_choice", "no tools are given")

    @property
    def max_output_tokens(self) -> int:
        return self.max_completion_tokens or self.max_tokens or 1024

    @property
    def wants_usage(self) -> bool:
        return bool(self.stream_options and self.stream_options.include_usage)


class EmbeddingRequest(_Strict):
    """`POST /v1/embeddings`."""

    model: str = Field(min_length=1, max_length=128)
    input: str | list[str] = Field(description="a text, or a list of up to 100 texts")
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: int | None = Field(None, ge=1, le=3072, strict=True)
    user: str | None = Field(None, max_length=128)

    @field_validator("input")
    @classmethod
    def _texts(cls, value: str | list[str]) -> str | list[str]:
        texts = [value] if isinstance(value, str) else value
        if not texts or len(texts) > 100:
            raise ValueError("give 1 to 100 texts")
        if any(not text.strip() for text in texts):
            raise ValueError("a text is empty")
        return value

    @property
    def texts(self) -> list[str]:
        return [self.input] if isinstance(self.input, str) else list(self.input)
