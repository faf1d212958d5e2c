"""A request's JSON body, read strictly before FastAPI validates it, for every route that takes one.

FastAPI reads any body as JSON when it has no content type, hands a `text/plain` or form body to pydantic
(which answers about dictionaries), lets a repeated key win silently, and turns JSON nested past the
interpreter's recursion limit into a bare `400`. Here each is refused, naming what is wrong:

- no `Content-Type`, or one that is not JSON (`application/json`, `application/*+json`; charset utf-8 if any):
  `415 unsupported_media_type`;
- bytes that are not UTF-8: `400 invalid_encoding` (never replaced and passed on);
- a key twice in one object: `422 validation_error` naming the key;
- nesting deeper than `MAX_JSON_DEPTH` objects and arrays: `422 validation_error`;
- a control character in any string (key or value) other than tab, line feed and carriage return:
  `422 validation_error` naming the field and the character.

The parsed body is handed to FastAPI (`JsonBodyRoute`), so it is parsed once. Written here because FastAPI has
no hook for any of it. The walk of the parsed body that names the place at fault runs only when a cheap look at
the text (substring searches, a count of brackets) or a walk of its objects and arrays alone says there is something
to find.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, NoReturn

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.types import Receive, Scope

from gateway.core.errors import BodyEncodingError, UnsupportedMediaTypeError

MAX_JSON_DEPTH = 64
# Control characters (Unicode category Cc) but tab, line feed and carriage return.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Where a control character can stand in JSON text: escaped (\u0000-\u001f, \u007f-\u009f, \b, \f), or raw for
# DEL and the C1 controls (JSON does not require them escaped); the others cannot stand raw in valid JSON.
_ESCAPED_CONTROL = re.compile(r"\\(?:u00(?:[01][0-9a-fA-F]|[7-9][0-9a-fA-F])|[bf])")
_RAW_C1 = re.compile(r"[\x80-\x9f]")
JSON_MEDIA_TYPES = "application/json (or application/<type>+json)"


def read_json(raw: bytes, content_type: str | None) -> Any:
    """The JSON value of a request body; a GatewayError or RequestValidationError naming what is wrong."""
    _check_media_type(content_type)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        byte = raw[exc.start]
        raise BodyEncodingError(f"the body is not valid UTF-8: byte 0x{byte:02x} at offset {exc.start}") from None
    repeated: list[bool] = []

    def pairs_to_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(pairs)
        if len(obj) != len(pairs):
            repeated.append(True)
            return _Repeated(pairs)
        return obj

    try:
        value = json.loads(text, object_pairs_hook=pairs_to_object)
    except json.JSONDecodeError as exc:
        error = {"type": "json_invalid", "loc": ("body", exc.pos), "msg": "JSON decode error", "input": {}}
        raise RequestValidationError([error]) from None
    except RecursionError:
        _invalid(("body",), f"the body nests objects and arrays deeper than {MAX_JSON_DEPTH} levels")
    if repeated or _may_hold_control(text) or _deeper_than_allowed(raw, value):
        _check_values(value)
    return value


def _may_hold_control(text: str) -> bool:
    if "\\" in text and _ESCAPED_CONTROL.search(text):  # an escaped backslash followed by b or f: a false alarm
        return True
    return "\x7f" in text or (not text.isascii() and _RAW_C1.search(text) is not None)


def _deeper_than_allowed(raw: bytes, value: Any) -> bool:
    if raw.count(b"[") + raw.count(b"{") <= MAX_JSON_DEPTH:  # fewer brackets than levels allowed
        return False
    level = [value] if isinstance(value, dict | list) else []
    for _ in range(MAX_JSON_DEPTH):  # one level of objects and arrays at a time, leaving strings and numbers out
        level = [
            child
            for node in level
            for child in (node.values() if isinstance(node, dict) else node)
            if isinstance(child, dict | list)
        ]
    return bool(level)


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


class _Repeated(dict[str, Any]):
    """An object in which a key appeared more than once (kept only until the walk reports it)."""

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        super().__init__(pairs)
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                self.repeated = key
                break
            seen.add(key)


def _check_values(value: Any) -> None:
    """Walk the body: depth, repeated keys and control characters, each reported with its place."""
    for path, node, depth in _walk(value):
        if depth > MAX_JSON_DEPTH:
            _invalid(path, f"the body nests objects and arrays deeper than {MAX_JSON_DEPTH} levels")
        if isinstance(node, _Repeated):
            _invalid(path, f"the key {node.repeated!r} appears more than once")
        if isinstance(node, dict):
            for key in node:
                if _CONTROL.search(key):
                    _control(path, key, "a key")
        elif isinstance(node, str) and _CONTROL.search(node):
            _control(path, node, "the value")


def _walk(value: Any) -> Iterator[tuple[tuple[str | int, ...], Any, int]]:
    stack: list[tuple[tuple[str | int, ...], Any, int]] = [((), value, 0)]
    while stack:
        path, node, depth = stack.pop()
        depth += isinstance(node, dict | list)
        yield path, node, depth
        if depth > MAX_JSON_DEPTH:
            return
        if isinstance(node, dict):
            stack.extend(((*path, key), child, depth) for key, child in node.items())
        elif isinstance(node, list):
            stack.extend(((*path, index), child, depth) for index, child in enumerate(node))


def _control(path: tuple[str | int, ...], text: str, what: str) -> NoReturn:
    found = _CONTROL.search(text)
    assert found is not None
    character = f"U+{ord(found.group()):04X}"
    _invalid(
        path,
        f"{what} contains the control character {character} at position {found.start()}; "
        "only tab, line feed and carriage return are allowed",
    )


def _invalid(path: tuple[str | int, ...], message: str) -> NoReturn:
    raise RequestValidationError([{"type": "value_error", "loc": ("body", *path), "msg": message, "input": None}])


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
