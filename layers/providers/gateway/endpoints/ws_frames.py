"""The WebSocket API's frames (docs/websocket.md): what a client may send, checked with an error naming the
problem, and what the gateway sends back (`chunk`, `done`, `error`, `pong`)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import BaseModel, StringConstraints, TypeAdapter, ValidationError

from gateway.core.errors import short
from gateway.core.strict_json import StrictJsonError, loads_strict

MAX_FRAME_BYTES = 32 * 1024  # API Gateway's limit for one WebSocket frame
MAX_MESSAGE_BYTES = 128 * 1024  # what one post_to_connection may carry
ACTIONS = ("chat", "handle_error", "generate_points", "ping")

ClientId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")]
_CLIENT_ID: TypeAdapter[str] = TypeAdapter(ClientId)


class FrameError(Exception):
    """A frame the gateway cannot act on: answered with an error frame, and the connection stays open."""

    def __init__(self, code: str, message: str, frame_id: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.code, self.message, self.frame_id, self.details = code, message, frame_id, details


@dataclass(frozen=True)
class Frame:
    """A client frame: its action, its id (None for a ping without one) and the rest, the action's request."""

    action: str
    id: str | None
    fields: dict[str, Any] = field(default_factory=dict)


def parse_frame(body: str) -> Frame:
    """A client frame from a message's text; a FrameError naming what is wrong with it."""
    size = len(body.encode())
    if size > MAX_FRAME_BYTES:
        raise FrameError("frame_too_large", f"the frame is {size} bytes; a frame may be at most {MAX_FRAME_BYTES}")
    try:
        data = loads_strict(body)
    except StrictJsonError as exc:
        if exc.position is not None:
            raise FrameError("invalid_json", f"the frame is not JSON: {short(exc, 120)}") from None
        where = ".".join(str(part) for part in exc.path) or "frame"
        raise FrameError("validation_error", f"invalid frame: {where}: {short(exc, 200)}") from None
    if not isinstance(data, dict):
        raise FrameError("invalid_json", f"the frame must be a JSON object, not {type(data).__name__}")
    frame_id = _frame_id(data.pop("id", None), required=data.get("action") != "ping")
    action = data.pop("action", None)
    if action not in ACTIONS:
        said = "has no action" if action is None else f"has an unknown action {short(json.dumps(action), 80)}"
        raise FrameError("unknown_action", f"the frame {said}; use one of {', '.join(ACTIONS)}", frame_id)
    return Frame(str(action), frame_id, data)


def _frame_id(value: Any, *, required: bool) -> str | None:
    if value is None and not required:
        return None
    if value is None:
        raise FrameError("validation_error", "invalid frame: id: required (a string of 1 to 64 characters)")
    try:
        return _CLIENT_ID.validate_python(value, strict=True)
    except ValidationError as exc:
        problem = exc.errors()[0]["msg"]
        raise FrameError("validation_error", f"invalid frame: id: {problem} (1 to 64 characters)") from None


def request_of[Model: BaseModel](model: type[Model], frame: Frame) -> Model:
    """The action's request from the frame's fields, validated by the HTTP endpoint's model; errors name the fields."""
    try:
        return model.model_validate(frame.fields)
    except ValidationError as exc:
        fields = [
            {"field": ".".join(str(part) for part in error["loc"]) or "frame", "message": str(error["msg"])}
            for error in exc.errors()
        ]
        message = "invalid frame: " + "; ".join(f"{f['field']}: {f['message']}" for f in fields)
        raise FrameError("validation_error", message, frame.id, fields) from None


def chunk_frame(frame_id: str, text: str) -> dict[str, Any]:
    return {"type": "chunk", "id": frame_id, "text": text}


def done_frame(frame_id: str, answer: dict[str, Any]) -> dict[str, Any]:
    return {"type": "done", "id": frame_id, **answer}


def error_frame(frame_id: str | None, code: str, message: str, request_id: str, details: Any = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message, "request_id": request_id}
    if details is not None:
        error["details"] = details
    return {"type": "error", "id": frame_id, "error": error}


def pong_frame(frame_id: str | None) -> dict[str, Any]:
    return {"type": "pong"} if frame_id is None else {"type": "pong", "id": frame_id}


def encode(frame: dict[str, Any]) -> bytes:
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False).encode()
