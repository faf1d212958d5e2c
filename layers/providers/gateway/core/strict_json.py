"""JSON read strictly: a key given twice, nesting deeper than `MAX_JSON_DEPTH`, or a control character in a string
(other than tab, line feed and carriage return) is refused with the place at fault, where `json.loads` would let
the last key win, recurse until the interpreter's limit, and pass control characters on.

Written here because neither the standard library nor pydantic refuses these while parsing. The walk of the parsed
value that names the place at fault runs only when a cheap look at the text (substring searches, a count of
brackets) or a walk of its objects and arrays alone says there is something to find. Used by every HTTP body
(`gateway.http.body`) and every WebSocket frame (`gateway.endpoints.ws_frames`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, NoReturn

MAX_JSON_DEPTH = 64
# Control characters (Unicode category Cc) but tab, line feed and carriage return.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Where a control character can stand in JSON text: escaped (\u0000-\u001f, \u007f-\u009f, \b, \f), or raw for
# DEL and the C1 controls (JSON does not require them escaped); the others cannot stand raw in valid JSON.
_ESCAPED_CONTROL = re.compile(r"\\(?:u00(?:[01][0-9a-fA-F]|[7-9][0-9a-fA-F])|[bf])")
_RAW_C1 = re.compile(r"[\x80-\x9f]")


class StrictJsonError(ValueError):
    """JSON that is not valid, or that breaks a rule; `path` is the place at fault (keys and indexes)."""

    def __init__(self, message: str, path: tuple[str | int, ...] = (), *, position: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.position = position  # in the text, for JSON that is not valid


def loads_strict(text: str) -> Any:
    """The JSON value of `text`; a StrictJsonError when it is not JSON or breaks one of the rules."""
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
        raise StrictJsonError(f"not valid JSON: {exc.msg}", position=exc.pos) from None
    except RecursionError:
        _invalid((), f"nests objects and arrays deeper than {MAX_JSON_DEPTH} levels")
    if repeated or _may_hold_control(text) or _deeper_than_allowed(text, value):
        _check_values(value)
    return value


def _may_hold_control(text: str) -> bool:
    if "\\" in text and _ESCAPED_CONTROL.search(text):  # an escaped backslash followed by b or f: a false alarm
        return True
    return "\x7f" in text or (not text.isascii() and _RAW_C1.search(text) is not None)


def _deeper_than_allowed(text: str, value: Any) -> bool:
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:  # fewer brackets than levels allowed
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
    """Walk the value: depth, repeated keys and control characters, each reported with its place."""
    for path, node, depth in _walk(value):
        if depth > MAX_JSON_DEPTH:
            _invalid(path, f"nests objects and arrays deeper than {MAX_JSON_DEPTH} levels")
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
    raise StrictJsonError(message, path)
