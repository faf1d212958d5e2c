"""A request's JSON body, read strictly before FastAPI validates it, for every route that takes one.

FastAPI reads any body as JSON when it has no content type, hands a `text/plain` or form body to pydantic
(which answers about dictionaries), lets a repeated key win silently, and turns JSON nested past the
interpreter's recursion limit into a bare `400`. Here each is refused, naming what is wrong:

- no `Content-Type`, or one that is not JSON (`application/json`, `application/*+json`; charset utf-8 if any):
  `415 unsupported_media_type`;
- bytes that are not UTF-8: `400 invalid_encoding` (never replaced and passed on);
- a key twice in one object, nesting deeper than `MAX_JSON_DEPTH` objects and arrays, or a control character in
  any string (key or value) other than tab, line feed and carriage return (`gateway.core.strict_json`):
  `422 validation_error` naming the place.

The parsed body is handed to FastAPI (`JsonBodyRoute`), so it is parsed once. Written here because FastAPI has
no hook for any of it.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.types import Receive, Scope

from gateway.core.errors import BodyEncodingError, UnsupportedMediaTypeError
from gateway.core.strict_json import StrictJsonError, loads_strict

JSON_MEDIA_TYPES = "application/json (or application/<type>+json)"


def read_json(raw: bytes, content_type: str | None) -> Any:
    """The JSON value of a request body; a GatewayError or RequestValidationError naming what is wrong."""
    _check_media_type(content_type)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        byte = raw[exc.start]
        raise BodyEncodingError(f"the body is not valid UTF-8: byte 0x{byte:02x} at offset {exc.start}") from None
    try:
        return loads_strict(text)
    except StrictJsonError as exc:
        error: dict[str, Any] = {"type": "value_error", "loc": ("body", *exc.path), "msg": exc.message, "input": None}
        if exc.position is not None:
            error = {"type": "json_invalid", "loc": ("body", exc.position), "msg": "JSON decode error", "input": {}}
        raise RequestValidationError([error]) from None


def _check_media_type(content_type: str | None) -> None:
    if not content_type:
        raise UnsupportedMediaTypeError(f"the request has no Content-Type: send the body as {JSON_MEDIA_TYPES}")
    media_type, *params = (part.strip().lower() for part in content_type.split(";"))
    main, _, sub = media_type.partition("/")
    if main != "application" or not (sub == "json" or sub.endswith("+json")):
        raise UnsupportedMediaTypeError(f"Content-Type {media_type!r} is not JSON: send the body as {JSON_MEDIA_TYPES}")
    for param in params:
        name, _, value = param.partition("=")
        if name.strip() == "charset" and value.strip().strip('"') not in ("utf-8", "utf8"):
            raise UnsupportedMediaTypeError(f"a JSON body is UTF-8, not charset={value.strip()}")


class _ParsedRequest(Request):
    """A request whose body has already been read and parsed: FastAPI gets the parsed value, not a second parse."""

    def __init__(self, scope: Scope, receive: Receive, raw: bytes, parsed: Any) -> None:
        super().__init__(scope, receive)
        self._raw, self._parsed = raw, parsed

    async def body(self) -> bytes:
        return self._raw

    async def json(self) -> Any:
        return self._parsed


class JsonBodyRoute(APIRoute):
    """A route whose body, when it takes one, is read by `read_json` before FastAPI validates it."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if self.body_field is None:
            return handler

        async def read_strictly(request: Request) -> Response:
            raw = await request.body()
            if raw:  # an empty body is FastAPI's to refuse ("Field required")
                parsed = read_json(raw, request.headers.get("content-type"))
                request = _ParsedRequest(request.scope, request.receive, raw, parsed)
            return await handler(request)

        return read_strictly
