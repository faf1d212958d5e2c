"""Provider emulator: a local HTTP server speaking the Gemini, Hugging Face and sLM wire formats.

Dev/test only (never shipped in the Lambda layer). The real SDKs run against it:

* Gemini (google-genai, ``HttpOptions(base_url=url, api_version="v1beta")``):
  ``POST /{v1,v1beta,v1alpha}/models/{model}:generateContent`` (and ``:streamGenerateContent``,
  ``:countTokens``), ``GET /{ver}/models/{model}``, ``GET /{ver}/models``.
* Hugging Face (``AsyncInferenceClient(base_url=url)``): ``POST [/{prefix}]/v1/chat/completions``.
* sLM (plain HTTP): ``POST [/{prefix}]/generate``, ``GET /health``.

It answers deterministically (an echo, or JSON generated from the requested schema) and can be
told to fail, from Python (:meth:`ProviderEmulator.fail`) or over HTTP (``/__emulator/...``).
Run it standalone with ``python -m dev.emulator --port 8765``.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import re
import signal
import socket
import struct
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType, TracebackType
from typing import Any, Final, Self
from urllib.parse import parse_qsl, urlencode, urlsplit

__all__ = [
    "FAULT_KINDS",
    "PROVIDERS",
    "Fault",
    "ProviderEmulator",
    "RecordedCall",
    "generate_from_schema",
    "main",
]

PROVIDERS: Final = frozenset({"gemini", "huggingface", "slm", "*"})
FAULT_KINDS: Final = frozenset(
    {
        "status",
        "delay",
        "hang",
        "malformed",
        "empty",
        "blocked",
        "bad_json",
        "reset",
        "body",
        "raw",
        "overbill",
        "cut",
        "stall",
    }
)
# Kinds that shape a model answer: they only match generation calls (not probes or /health).
_CONTENT_KINDS: Final = frozenset({"empty", "blocked", "bad_json", "body", "raw", "overbill", "cut", "stall"})
# Kinds that break a streamed answer after `after_chunks` pieces of text: the connection dropped (cut), or silent for
# `delay_s` (default 60 s) and then dropped (stall). A whole (non-streamed) answer is dropped before it is sent.
_STREAM_KINDS: Final = frozenset({"cut", "stall"})
_SECRET_HEADERS: Final = frozenset(
    {
        "authorization",
        "x-goog-api-key",
        "proxy-authorization",
        "x-api-key",
        "api-key",
        "cookie",
    }
)
_REDACTED: Final = "<present>"
_MALFORMED_BODY: Final = b"<html><body>oops: upstream proxy error</body></html>"
_MAX_POINTS: Final = 1000
_HANG_DEFAULT_S: Final = 60.0

_GEMINI_STATUS: Final[dict[int, str]] = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    408: "DEADLINE_EXCEEDED",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "NOT_IMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_HF_ERROR_TYPE: Final[dict[int, str]] = {
    400: "validation",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found",
    422: "validation",
    429: "rate_limit_exceeded",
    500: "generation",
    503: "overloaded",
    504: "timeout",
}

_RE_GEMINI_POST: Final = re.compile(
    r"^/(v1|v1beta|v1alpha)/models/([^:]+):(generateContent|streamGenerateContent|countTokens|embedContent|batchEmbedContents)$"
)
_RE_GEMINI_GET: Final = re.compile(r"^/(v1|v1beta|v1alpha)/models(?:/([^:]+))?$")
_RE_HF: Final = re.compile(r"^(.*)/v1/chat/completions$")
_RE_SLM: Final = re.compile(r"^(.*)/generate$")

_RE_COUNT: Final = re.compile(r"count[\"']?[:=\s]+(\d+)", re.IGNORECASE)
_RE_N_POINTS: Final = re.compile(r"(\d+)\s+points", re.IGNORECASE)
_RE_RADIUS: Final = re.compile(r"radius[\"']?(?:\s+of)?[:=\s]+(-?[\d.]+)", re.IGNORECASE)
_RE_CENTER: Final = re.compile(
    r"cent(?:er|re)(?:ed)?[\"']?(?:\s+at)?[:=\s]+[\(\[]?\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)",
    re.IGNORECASE,
)
_RE_SPEC_RADIUS: Final = re.compile(r"\bradius:\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?)", re.IGNORECASE)
_RE_3D: Final = re.compile(r"dimensions[\"']?[:=\s]+3\b|\b3-?d\b", re.IGNORECASE)


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Fault:
    """One registered fault; see :meth:`ProviderEmulator.fail`."""

    provider: str
    kind: str
    status: int | None = None
    delay_s: float = 0.0
    retry_after: str | None = None
    times: int | None = None
    model: str | None = None
    body: str | None = None
    tokens: int | None = None
    after_chunks: int = 0

    def __post_init__(self) -> None:
        if self.provider not in PROVIDERS:
            raise ValueError(f"provider must be one of {sorted(PROVIDERS)}, not {self.provider!r}")
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {sorted(FAULT_KINDS)}, not {self.kind!r}")
        if self.status is not None and not 100 <= self.status <= 599:
            raise ValueError(f"status must be an HTTP status code, not {self.status!r}")
        if self.delay_s < 0:
            raise ValueError("delay_s must be >= 0")
        if self.times is not None and self.times < 1:
            raise ValueError("times must be >= 1 (or None for 'until reset')")
        if self.kind in ("body", "raw") and self.body is None:
            raise ValueError(f"kind {self.kind!r} needs body=")
        if self.after_chunks < 0:
            raise ValueError("after_chunks must be >= 0")
        if self.kind == "overbill" and (self.tokens is None or self.tokens < 0):
            raise ValueError("kind 'overbill' needs tokens= (the output tokens the answer bills)")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Fault:
        """Build from a JSON object with the same fields as :meth:`ProviderEmulator.fail`."""
        unknown = set(data) - {
            "provider",
            "kind",
            "status",
            "delay_s",
            "retry_after",
            "times",
            "model",
            "body",
            "tokens",
            "after_chunks",
        }
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        status = data.get("status")
        times = data.get("times")
        retry_after = data.get("retry_after")
        return cls(
            provider=str(data.get("provider", "*")),
            kind=str(data.get("kind", "")),
            status=None if status is None else int(status),
            delay_s=float(data.get("delay_s") or 0.0),
            retry_after=None if retry_after is None else str(retry_after),
            times=None if times is None else int(times),
            model=None if data.get("model") is None else str(data["model"]),
            body=None if data.get("body") is None else str(data["body"]),
            tokens=None if data.get("tokens") is None else int(data["tokens"]),
            after_chunks=int(data.get("after_chunks") or 0),
        )

    def matches(self, provider: str, model: str | None, generation: bool) -> bool:
        """Whether this fault applies to a call."""
        if self.provider not in ("*", provider):
            return False
        if self.model is not None and self.model != model:
            return False
        return generation or self.kind not in _CONTENT_KINDS


@dataclass(frozen=True)
class RecordedCall:
    """A provider call the emulator received. Secret header values are never stored: `key_sha256` is the SHA-256 of
    the key the call presented (so a test can tell which key was used without the key being kept anywhere)."""

    provider: str
    model: str | None
    method: str
    path: str
    query: str
    body: Any
    headers: dict[str, str]
    authenticated: bool
    fault: str | None
    at: float = field(default_factory=time.time)
    key_sha256: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (as served by ``GET /__emulator/calls``)."""
        return asdict(self)


@dataclass
class _Slot:
    fault: Fault
    remaining: int | None


# --------------------------------------------------------------------------- schema → JSON


def _num(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _int(value: Any) -> int | None:
    number = _num(value)
    return None if number is None else int(number)


def _get(schema: Mapping[str, Any], *names: str) -> Any:
    """First present key among camelCase / snake_case spellings (the SDK sends both)."""
    for name in names:
        if name in schema:
            return schema[name]
    return None


def _types(schema: Mapping[str, Any]) -> list[str]:
    raw = schema.get("type")
    if raw is None:
        return []
    items = raw if isinstance(raw, list) else [raw]
    return [str(t).lower() for t in items]


class _SchemaGen:
    """Builds a value that validates against a JSON Schema or a Gemini (uppercase) Schema."""

    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root

    def resolve(self, schema: Any, depth: int = 0) -> dict[str, Any]:
        if not isinstance(schema, Mapping):
            return {}
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#") and depth < 32:
            target: Any = self.root
            for part in ref.lstrip("#").strip("/").split("/"):
                if not part:
                    continue
                part = part.replace("~1", "/").replace("~0", "~")
                target = target.get(part) if isinstance(target, Mapping) else None
            merged = {
                **self.resolve(target, depth + 1),
                **{k: v for k, v in schema.items() if k != "$ref"},
            }
            return merged
        return dict(schema)

    def value(self, schema: Any, depth: int = 0, index: int = 0) -> Any:
        s = self.resolve(schema)
        if depth > 12:
            return None
        if "const" in s:
            return s["const"]
        enum = s.get("enum")
        if isinstance(enum, list) and enum:
            non_null = [e for e in enum if e is not None]
            pool = non_null or enum
            return pool[index % len(pool)]
        for key in ("anyOf", "any_of", "oneOf", "one_of"):
            options = s.get(key)
            if isinstance(options, list) and options:
                chosen = next(
                    (o for o in options if "null" not in _types(self.resolve(o))),
                    options[0],
                )
                rest = {k: v for k, v in s.items() if k not in (key,)}
                return self.value({**rest, **self.resolve(chosen)}, depth + 1, index)
        all_of = s.get("allOf") or s.get("all_of")
        if isinstance(all_of, list) and all_of:
            merged: dict[str, Any] = {k: v for k, v in s.items() if k not in ("allOf", "all_of")}
            for part in all_of:
                part_s = self.resolve(part)
                props = {**merged.get("properties", {}), **part_s.get("properties", {})}
                required = [*merged.get("required", []), *part_s.get("required", [])]
                merged = {**merged, **part_s, "properties": props, "required": required}
            return self.value(merged, depth + 1, index)

        types = [t for t in _types(s) if t != "null"]
        if not types:
            if "properties" in s:
                types = ["object"]
            elif "items" in s or "prefixItems" in s:
                types = ["array"]
            elif _types(s) == ["null"]:
                return None
            else:
                types = ["string"]
        kind = types[0]
        if kind == "object":
            return self._object(s, depth)
        if kind == "array":
            return self._array(s, depth)
        if kind == "string":
            return self._string(s, index)
        if kind == "integer":
            return self._integer(s)
        if kind == "number":
            return self._number(s)
        if kind == "boolean":
            return True
        return None

    def _object(self, s: Mapping[str, Any], depth: int) -> dict[str, Any]:
        props = s.get("properties") or {}
        required = set(s.get("required") or [])
        out: dict[str, Any] = {}
        for name, sub in props.items():
            if depth > 8 and name not in required:
                continue
            out[name] = self.value(sub, depth + 1)
        min_props = _int(_get(s, "minProperties", "min_properties")) or 0
        extra = 0
        while len(out) < min_props:
            out[f"extra_{extra}"] = "example"
            extra += 1
        return out

    def _array(self, s: Mapping[str, Any], depth: int) -> list[Any]:
        prefix = s.get("prefixItems")
        min_items = _int(_get(s, "minItems", "min_items")) or 0
        max_items = _int(_get(s, "maxItems", "max_items"))
        count = max(min_items, 1)
        if max_items is not None:
            count = min(count, max_items)
        if depth > 8:
            count = min_items
        out: list[Any] = []
        if isinstance(prefix, list):
            out = [self.value(p, depth + 1, i) for i, p in enumerate(prefix)]
        items = s.get("items")
        while len(out) < count:
            out.append(self.value(items if items is not None else {}, depth + 1, len(out)))
        return out[:max_items] if max_items is not None else out

    @staticmethod
    def _string(s: Mapping[str, Any], index: int) -> str:
        fmt = str(s.get("format") or "").lower()
        text = {
            "date-time": "2024-01-01T00:00:00Z",
            "date": "2024-01-01",
            "time": "00:00:00",
            "email": "user@example.com",
            "uri": "https://example.com/",
            "url": "https://example.com/",
            "uuid": "00000000-0000-4000-8000-000000000000",
            "ipv4": "127.0.0.1",
        }.get(fmt, "example" if index == 0 else f"example {index + 1}")
        min_len = _int(_get(s, "minLength", "min_length")) or 0
        max_len = _int(_get(s, "maxLength", "max_length"))
        if len(text) < min_len:
            text = text + "x" * (min_len - len(text))
        if max_len is not None:
            text = text[:max_len]
        return text

    @staticmethod
    def _bounds(s: Mapping[str, Any]) -> tuple[float | None, float | None, bool, bool]:
        lo = _num(_get(s, "minimum"))
        hi = _num(_get(s, "maximum"))
        ex_lo_raw = _get(s, "exclusiveMinimum", "exclusive_minimum")
        ex_hi_raw = _get(s, "exclusiveMaximum", "exclusive_maximum")
        ex_lo = ex_hi = False
        if isinstance(ex_lo_raw, bool):
            ex_lo = ex_lo_raw
        elif _num(ex_lo_raw) is not None:
            lo, ex_lo = _num(ex_lo_raw), True
        if isinstance(ex_hi_raw, bool):
            ex_hi = ex_hi_raw
        elif _num(ex_hi_raw) is not None:
            hi, ex_hi = _num(ex_hi_raw), True
        return lo, hi, ex_lo, ex_hi

    def _number(self, s: Mapping[str, Any]) -> float:
        lo, hi, _, _ = self._bounds(s)
        if lo is not None and hi is not None:
            return (lo + hi) / 2
        if lo is not None:
            return lo + 1
        if hi is not None:
            return hi - 1
        return 0.5

    def _integer(self, s: Mapping[str, Any]) -> int:
        lo, hi, ex_lo, ex_hi = self._bounds(s)
        low = None if lo is None else (math.floor(lo) + 1 if ex_lo else math.ceil(lo))
        high = None if hi is None else (math.ceil(hi) - 1 if ex_hi else math.floor(hi))
        if low is not None and high is not None:
            return (low + high) // 2
        if low is not None:
            return max(low, 1)
        if high is not None:
            return min(high, 1)
        return 1


def generate_from_schema(schema: Mapping[str, Any]) -> Any:
    """A deterministic value that validates against ``schema`` (JSON Schema or Gemini Schema)."""
    return _SchemaGen(schema).value(schema)


def _points_layout(gen: _SchemaGen, root: Mapping[str, Any], prompt: str) -> dict[str, Any] | None:
    """The point-generation special case, or None when the schema is not a points schema."""
    top = gen.resolve(root)
    if "object" not in _types(top) and "properties" not in top:
        return None
    points = gen.resolve((top.get("properties") or {}).get("points"))
    if "array" not in _types(points) and "items" not in points:
        return None
    item = gen.resolve(points.get("items"))
    for key in ("anyOf", "any_of"):
        if isinstance(item.get(key), list):
            item = next(
                (gen.resolve(o) for o in item[key] if "properties" in gen.resolve(o)),
                item,
            )
    props = item.get("properties") or {}
    if "x" not in props or "y" not in props:
        return None

    count = 8
    for regex in (_RE_COUNT, _RE_N_POINTS):
        match = regex.search(prompt)
        if match:
            count = int(match.group(1))
            break
    count = min(count, _MAX_POINTS)
    min_items = _int(_get(points, "minItems", "min_items")) or 0
    max_items = _int(_get(points, "maxItems", "max_items"))
    count = max(count, min_items)
    if max_items is not None:
        count = min(count, max_items)
    radius_m = _RE_RADIUS.search(prompt)
    radius = _num(radius_m.group(1)) if radius_m else None
    center_m = _RE_CENTER.search(prompt)
    cx = (_num(center_m.group(1)) or 0.0) if center_m else 0.0
    cy = (_num(center_m.group(2)) or 0.0) if center_m else 0.0
    three_d = bool(_RE_3D.search(prompt))
    required = set(item.get("required") or [])

    out = gen.value(top)
    if not isinstance(out, dict):
        return None
    layout: list[Any] = []
    r = 1.0 if radius is None else radius
    for i in range(count):
        angle = 2 * math.pi * i / count if count else 0.0
        point = gen.value(item, 1, i)
        if not isinstance(point, dict):
            point = {}
        coords = {"x": cx + r * math.cos(angle), "y": cy + r * math.sin(angle)}
        if "z" in props and (three_d or "z" in required):
            coords["z"] = 0.0
        else:
            point.pop("z", None)
        for axis, val in coords.items():
            is_int = "integer" in _types(gen.resolve(props.get(axis)))
            point[axis] = round(val) if is_int else round(val, 6) + 0.0  # no -0.0
        layout.append(point)
    out["points"] = layout
    return out


def _spec_layout(value: Any, prompt: str) -> Any:
    """The shape-spec special case: one primitive keeping the count and radius the prompt's constraints name, as a
    model that follows its instructions would (the gateway refuses a spec that contradicts the prompt)."""
    primitives = value.get("primitives") if isinstance(value, dict) else None
    if not isinstance(primitives, list) or not primitives or not isinstance(primitives[0], dict):
        return value
    first = primitives[0]
    value["primitives"] = [first]
    count, radius = _RE_COUNT.search(prompt), _RE_SPEC_RADIUS.search(prompt)
    if count:
        first["count"] = int(count.group(1))
    if radius and (length := _num(radius.group(1))) is not None and length > 0:
        first["radius"] = length
    return value


# --------------------------------------------------------------------------- helpers


def _tokens(text: str) -> int:
    """Deterministic token estimate: about 4 characters a token, at least 1."""
    return max(1, (len(text) + 3) // 4)


def _parts_text(parts: Any) -> str:
    if isinstance(parts, str):
        return parts
    if not isinstance(parts, list):
        return ""
    texts: list[str] = []
    for part in parts:
        if isinstance(part, str):
            texts.append(part)
        elif isinstance(part, Mapping) and isinstance(part.get("text"), str):
            texts.append(part["text"])
    return "\n".join(texts)


def _vector(text: str, dims: int) -> list[float]:
    """A deterministic unit vector for a text (the same text, the same vector)."""
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
    values = [math.sin(seed % 9973 * (i + 1) * 0.618) for i in range(max(1, min(dims, 3072)))]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [round(v / norm, 8) for v in values]


def _pieces(text: str, words: int = 2) -> list[str]:
    """A streamed answer's pieces: a few words each (with their spaces), as providers stream a few tokens at a time."""
    tokens = re.findall(r"\s*\S+\s*", text) if text.strip() else ([text] if text else [])
    return ["".join(tokens[i : i + words]) for i in range(0, len(tokens), words)]


def _gemini_tool_answer(req: Mapping[str, Any], contents: list[Any]) -> str | None:
    """After a function response (the last turn answers a call), the model's text says what the tool answered."""
    last = contents[-1] if contents else None
    parts = last.get("parts") if isinstance(last, Mapping) else None
    for part in parts if isinstance(parts, list) else []:
        answer = part.get("functionResponse") if isinstance(part, Mapping) else None
        if isinstance(answer, Mapping):
            return f"[emulated gemini] {answer.get('name')} answered {json.dumps(answer.get('response'))}"
    return None


def _gemini_tool_call(req: Mapping[str, Any]) -> dict[str, Any] | None:
    """A function call to the first declared function (or the one tool_config allows), with arguments made from its
    parameters' schema; None without functions or when the mode is NONE."""
    declarations = [
        d for tool in req.get("tools") or [] if isinstance(tool, Mapping)
        for d in tool.get("functionDeclarations") or tool.get("function_declarations") or [] if isinstance(d, Mapping)
    ]  # fmt: skip
    calling = (req.get("toolConfig") or {}).get("functionCallingConfig") or {}
    if not declarations or calling.get("mode") == "NONE":
        return None
    allowed = calling.get("allowedFunctionNames") or [declarations[0].get("name")]
    chosen = next((d for d in declarations if d.get("name") in allowed), declarations[0])
    schema = _get(chosen, "parametersJsonSchema", "parameters_json_schema", "parameters") or {"type": "object"}
    return {"name": chosen.get("name"), "args": generate_from_schema(schema)}


def _hf_tool_call(req: Mapping[str, Any]) -> dict[str, Any] | None:
    """A call of the first tool (or the one tool_choice names), arguments made from its parameters' schema; None
    without tools, with tool_choice none, or when the last message is a tool's answer (then the model answers)."""
    functions = [t.get("function") for t in req.get("tools") or [] if isinstance(t, Mapping)]
    tools: list[Mapping[str, Any]] = [f for f in functions if isinstance(f, Mapping)]
    messages = req.get("messages") or []
    last_role = messages[-1].get("role") if messages and isinstance(messages[-1], Mapping) else None
    choice = req.get("tool_choice")
    if not tools or choice == "none" or last_role == "tool":
        return None
    function = choice.get("function") if isinstance(choice, Mapping) else None
    forced = function.get("name") if isinstance(function, Mapping) else None
    chosen = next((t for t in tools if t.get("name") == forced), tools[0])
    arguments = generate_from_schema(chosen.get("parameters") or {"type": "object"})
    return {"id": f"call_emu_{abs(hash(json.dumps(arguments))) % 10**8}", "type": "function",
            "function": {"name": chosen.get("name"), "arguments": json.dumps(arguments)}}  # fmt: skip


def _echo(provider: str, model: str, last_user: str) -> str:
    snippet = " ".join(last_user.split())[:120]
    return f"[emulated {provider} {model}] {snippet}"


def _bad_json_for(schema: Mapping[str, Any] | None) -> str:
    if schema is None:
        return "this is not JSON: {unexpected"
    s = _SchemaGen(schema).resolve(schema)
    if "object" in _types(s) and not s.get("required") and s.get("additionalProperties") is not False:
        return json.dumps([{"unexpected": True}])
    return json.dumps({"unexpected": True})


@dataclass
class _Generation:
    """What one generation request asks for, provider-neutral."""

    provider: str
    model: str
    last_user: str
    all_text: str
    schema: Mapping[str, Any] | None
    json_mode: bool


def _answer_text(gen: _Generation, fault: Fault | None) -> str:
    """The model's text: scripted body, deliberately wrong JSON, schema JSON or an echo."""
    if fault is not None and fault.kind == "body":
        return fault.body or ""
    if fault is not None and fault.kind == "bad_json":
        return _bad_json_for(gen.schema)
    if gen.schema is not None:
        sg = _SchemaGen(gen.schema)
        prompt = gen.last_user or gen.all_text
        value = _points_layout(sg, gen.schema, prompt)
        return json.dumps(value if value is not None else _spec_layout(sg.value(gen.schema), prompt))
    if gen.json_mode:
        return json.dumps({"text": _echo(gen.provider, gen.model, gen.last_user)})
    return _echo(gen.provider, gen.model, gen.last_user)


# --------------------------------------------------------------------------- server


class _Abort(Exception):
    """Raised inside a handler to drop the connection without answering."""


class _Handled(Exception):
    """Raised inside a handler once the response has been sent."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128

    def __init__(self, addr: tuple[str, int], emulator: ProviderEmulator) -> None:
        self.emulator = emulator
        super().__init__(addr, _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"  # one request per connection: simple, and faults stay isolated
    server_version = "ProviderEmulator/1.0"

    # ---- plumbing

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.emulator.verbose:
            super().log_message(format, *args)

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def _read_body(self) -> tuple[bytes, Any]:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        if not raw:
            return raw, None
        try:
            return raw, json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return raw, None

    def _send(
        self,
        status: int,
        payload: Any = None,
        *,
        raw: bytes | None = None,
        content_type: str = "application/json",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        data = raw if raw is not None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _send_sse(self, events: Iterator[str], fault: Fault | None = None) -> None:
        """Server-sent events, one per item; a cut or stall fault breaks the stream after `after_chunks` of them."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        breaks = fault is not None and fault.kind in _STREAM_KINDS
        for sent, event in enumerate(events):
            if breaks and fault is not None and sent == fault.after_chunks:
                if fault.kind == "stall" and not self.server.emulator._sleep(fault.delay_s or _HANG_DEFAULT_S):
                    raise _Abort
                self._reset_connection()
            self.wfile.write(f"data: {event}\r\n\r\n".encode())
            self.wfile.flush()

    def _reset_connection(self) -> None:
        """Close with RST and no response at all."""
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        raise _Abort

    def _dispatch(self) -> None:
        try:
            self._route()
        except _Handled:
            pass
        except _Abort:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.close()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as exc:  # an emulator bug: say so instead of dropping the connection
            self.close_connection = True
            with contextlib.suppress(OSError):
                self._send(500, {"error": {"code": 500, "message": f"emulator bug: {exc!r}", "status": "INTERNAL"}})

    def _route(self) -> None:
        split = urlsplit(self.path)
        path = split.path
        if path.startswith("/__emulator/"):
            self._control(path)
            return
        raw, body = self._read_body()
        method = self.command
        if method == "POST" and (m := _RE_GEMINI_POST.match(path)):
            self._gemini_generate(split.query, path, m.group(2), m.group(3), raw, body)
        elif method == "GET" and (m := _RE_GEMINI_GET.match(path)):
            self._gemini_get(split.query, path, m.group(2))
        elif method == "POST" and (m := _RE_HF.match(path)):
            self._hf_chat(split.query, path, m.group(1), raw, body)
        elif method == "POST" and _RE_SLM.match(path):
            self._slm_generate(split.query, path, raw, body)
        elif method == "GET" and path in ("/health", "/healthz"):
            self._begin("slm", "slm", split.query, path, body, generation=False)
            self._send(200, {"status": "ok"})
        else:
            emu_msg = f"no emulated route for {method} {path}"
            self._send(404, {"error": {"code": 404, "message": emu_msg, "status": "NOT_FOUND"}})

    # ---- recording and faults

    def _begin(
        self,
        provider: str,
        model: str | None,
        query: str,
        path: str,
        body: Any,
        *,
        generation: bool,
        streaming: bool = False,
    ) -> Fault | None:
        """Record the call, pick a fault, sleep its delay; handle transport-level kinds."""
        emu = self.server.emulator
        headers: dict[str, str] = {}
        authenticated = False
        presented: str | None = None
        for name, value in self.headers.items():
            key = name.lower()
            if key in _SECRET_HEADERS:
                headers[key] = _REDACTED
                if key in ("authorization", "x-goog-api-key", "x-api-key", "api-key") and value.strip():
                    authenticated = authenticated or value.strip().lower() not in (
                        "bearer",
                        "",
                    )
                    token = value.strip().removeprefix("Bearer ").removeprefix("bearer ").strip()
                    presented = presented or token or None
            else:
                headers[key] = value
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(k == "key" and v for k, v in pairs):
            authenticated = True
        safe_query = urlencode([(k, _REDACTED if k == "key" else v) for k, v in pairs])
        digest = hashlib.sha256(presented.encode()).hexdigest() if presented else None
        if emu.require_auth and provider != "slm" and not authenticated:
            emu._record(self._call(provider, model, path, safe_query, body, headers, False, None, digest))
            self._auth_error(provider)
            raise _Handled
        fault = emu._take_fault(provider, model, generation)
        kind = fault.kind if fault else None
        emu._record(self._call(provider, model, path, safe_query, body, headers, authenticated, kind, digest))
        if fault is None:
            return None
        if fault.kind == "hang":
            emu._sleep(fault.delay_s or _HANG_DEFAULT_S)
            self._reset_connection()
        if fault.kind in _STREAM_KINDS and not streaming:  # a whole answer is dropped before it is sent
            if fault.kind == "stall":
                emu._sleep(fault.delay_s or _HANG_DEFAULT_S)
            self._reset_connection()
        if fault.delay_s > 0 and fault.kind != "stall" and not emu._sleep(fault.delay_s):
            raise _Abort  # the emulator is stopping
        if fault.kind == "reset":
            self._reset_connection()
        if fault.kind == "delay":
            return None
        if fault.kind == "status":
            self._error(provider, fault.status or 500, fault.retry_after, fault.body)
            raise _Handled
        if fault.kind == "malformed":
            self._send(200, raw=_MALFORMED_BODY, content_type="text/html")
            raise _Handled
        if fault.kind == "raw" and generation:  # a 200 in whatever shape the test gives, verbatim
            self._send(200, raw=(fault.body or "").encode())
            raise _Handled
        return fault

    def _call(
        self,
        provider: str,
        model: str | None,
        path: str,
        query: str,
        body: Any,
        headers: dict[str, str],
        authenticated: bool,
        fault: str | None,
        key_sha256: str | None = None,
    ) -> RecordedCall:
        return RecordedCall(
            provider=provider,
            model=model,
            method=self.command,
            path=path,
            query=query,
            body=body,
            headers=headers,
            authenticated=authenticated,
            fault=fault,
            key_sha256=key_sha256,
        )

    def _auth_error(self, provider: str) -> None:
        if provider == "gemini":
            msg = "Method doesn't allow unregistered callers. Please use an API key."
            self._send(
                403,
                {"error": {"code": 403, "message": msg, "status": "PERMISSION_DENIED"}},
            )
        else:
            self._send(401, {"error": "Invalid credentials in Authorization header"})

    def _error(self, provider: str, status: int, retry_after: str | None, message: str | None) -> None:
        headers = {"Retry-After": retry_after} if retry_after else {}
        text = message or f"emulated {provider} error {status}"
        payload: dict[str, Any]
        if provider == "gemini":
            payload = {
                "error": {
                    "code": status,
                    "message": text,
                    "status": _GEMINI_STATUS.get(status, "UNKNOWN" if status < 500 else "INTERNAL"),
                }
            }
        elif provider == "huggingface":
            payload = {
                "error": text,
                "error_type": _HF_ERROR_TYPE.get(status, "unknown"),
            }
        else:
            payload = {"detail": text}
        self._send(status, payload, headers=headers)

    # ---- Gemini

    def _gemini_embed(self, query: str, path: str, model: str, action: str, body: Any) -> None:
        """`embedContent` and `batchEmbedContents`: a deterministic unit vector per text (its hash seeds it)."""
        fault = self._begin("gemini", model, query, path, body, generation=False)
        del fault  # transport and status faults apply; the vectors have no shape to break
        req = body if isinstance(body, Mapping) else {}
        requests = req.get("requests") if action == "batchEmbedContents" else [req]
        vectors = []
        for item in requests if isinstance(requests, list) else []:
            content = item.get("content") if isinstance(item, Mapping) else None
            text = _parts_text(content.get("parts")) if isinstance(content, Mapping) else ""
            dims = _int(_get(item, "outputDimensionality", "output_dimensionality")) or 3072
            vectors.append({"values": _vector(text, dims)})
        if action == "embedContent":
            self._send(200, {"embedding": vectors[0] if vectors else {"values": []}})
        else:
            self._send(200, {"embeddings": vectors})

    def _gemini_generate(self, query: str, path: str, model: str, action: str, raw: bytes, body: Any) -> None:
        model = model.removeprefix("models/")
        if action in ("embedContent", "batchEmbedContents"):
            self._gemini_embed(query, path, model, action, body)
            return
        generation = action != "countTokens"
        streaming = action == "streamGenerateContent"
        fault = self._begin("gemini", model, query, path, body, generation=generation, streaming=streaming)
        req = body if isinstance(body, Mapping) else {}
        if raw and body is None:
            self._error("gemini", 400, None, "Invalid JSON payload received.")
            return
        contents = req.get("contents") or []
        if isinstance(contents, (str, Mapping)):
            contents = [contents]
        texts: list[str] = []
        last_user = ""
        for content in contents:
            if isinstance(content, str):
                text, role = content, "user"
            elif isinstance(content, Mapping):
                text, role = (
                    _parts_text(content.get("parts")),
                    str(content.get("role") or "user"),
                )
            else:
                continue
            texts.append(text)
            if role == "user":
                last_user = text
        system = req.get("systemInstruction") or req.get("system_instruction")
        system_text = _parts_text(system.get("parts")) if isinstance(system, Mapping) else _parts_text(system)
        all_text = "\n".join([system_text, *texts]).strip()
        prompt_tokens = _tokens(all_text)
        if action == "countTokens":
            self._send(200, {"totalTokens": prompt_tokens})
            return

        config = req.get("generationConfig") or req.get("generation_config") or {}
        schema = _get(
            config,
            "responseJsonSchema",
            "response_json_schema",
            "responseSchema",
            "response_schema",
        )
        mime = str(_get(config, "responseMimeType", "response_mime_type") or "")
        gen = _Generation(
            provider="gemini",
            model=model,
            last_user=last_user,
            all_text=all_text,
            schema=schema if isinstance(schema, Mapping) else None,
            json_mode=mime == "application/json",
        )
        usage = {
            "promptTokenCount": prompt_tokens,
            "candidatesTokenCount": 0,
            "totalTokenCount": prompt_tokens,
        }
        envelope: dict[str, Any] = {"usageMetadata": usage, "modelVersion": model}
        if fault is not None and fault.kind == "empty":
            self._gemini_send(action, {"candidates": [], **envelope})
            return
        if fault is not None and fault.kind == "blocked":
            blocked = {
                "promptFeedback": {"blockReason": "SAFETY"},
                "candidates": [],
                **envelope,
            }
            self._gemini_send(action, blocked)
            return
        tool_answer = _gemini_tool_answer(req, contents)
        call = _gemini_tool_call(req) if tool_answer is None else None
        text = tool_answer or (json.dumps(call) if call is not None else _answer_text(gen, fault))
        out_tokens = _tokens(text)
        usage = {
            "promptTokenCount": prompt_tokens,
            "candidatesTokenCount": out_tokens,
            "totalTokenCount": prompt_tokens + out_tokens,
        }
        if fault is not None and fault.kind == "overbill":  # billed thinking, as Gemini 2.5 bills it
            thoughts = max(0, (fault.tokens or 0) - out_tokens)
            usage.update(thoughtsTokenCount=thoughts, totalTokenCount=prompt_tokens + out_tokens + thoughts)
        if call is not None:  # a function call comes whole, in one chunk when streamed
            answer = self._gemini_response("", model, usage, "STOP", call)
            self._gemini_send(action, answer, fault)
            return
        if streaming:
            self._send_sse(self._gemini_chunks(text, model, usage), fault)
            return
        self._send(200, self._gemini_response(text, model, usage, "STOP"))

    def _gemini_send(self, action: str, payload: dict[str, Any], fault: Fault | None = None) -> None:
        if action == "streamGenerateContent":
            self._send_sse(iter([json.dumps(payload)]), fault)
        else:
            self._send(200, payload)

    @staticmethod
    def _gemini_response(
        text: str, model: str, usage: Mapping[str, int], finish: str | None, call: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        parts = [{"functionCall": dict(call)}] if call is not None else [{"text": text}]
        candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
        if finish:
            candidate["finishReason"] = finish
        return {
            "candidates": [candidate],
            "usageMetadata": dict(usage),
            "modelVersion": model,
        }

    def _gemini_chunks(self, text: str, model: str, usage: Mapping[str, int]) -> Iterator[str]:
        pieces = _pieces(text) or [""]
        for i, piece in enumerate(pieces):
            last = i == len(pieces) - 1
            yield json.dumps(self._gemini_response(piece, model, usage, "STOP" if last else None))

    def _gemini_get(self, query: str, path: str, model: str | None) -> None:
        name = (model or "").removeprefix("models/")
        self._begin("gemini", name or None, query, path, None, generation=False)
        if not name:
            names = ["gemini-2.5-flash", "gemini-2.5-pro", "gemini-2.0-flash"]
            self._send(200, {"models": [self._gemini_model(n) for n in names]})
            return
        self._send(200, self._gemini_model(name))

    @staticmethod
    def _gemini_model(name: str) -> dict[str, Any]:
        return {
            "name": f"models/{name}",
            "version": "emulated",
            "displayName": f"Emulated {name}",
            "description": "Provider emulator model",
            "inputTokenLimit": 1048576,
            "outputTokenLimit": 65536,
            "supportedGenerationMethods": [
                "generateContent",
                "countTokens",
                "streamGenerateContent",
            ],
        }

    # ---- Hugging Face / OpenAI chat completions

    def _hf_chat(self, query: str, path: str, prefix: str, raw: bytes, body: Any) -> None:
        req = body if isinstance(body, Mapping) else {}
        model = str(req.get("model") or "")
        if not model or model == "dummy":
            model = prefix.strip("/").removeprefix("models/") or model or "dummy"
        streaming = bool(req.get("stream"))
        fault = self._begin("huggingface", model, query, path, body, generation=True, streaming=streaming)
        if raw and body is None:
            self._error("huggingface", 400, None, "Failed to deserialize the JSON body")
            return
        messages = req.get("messages") or []
        texts: list[str] = []
        last_user = ""
        for message in messages if isinstance(messages, list) else []:
            if not isinstance(message, Mapping):
                continue
            text = _parts_text(message.get("content"))
            texts.append(text)
            if message.get("role") == "user":
                last_user = text
            elif message.get("role") == "tool":  # after a tool's answer, the model answers with it
                last_user = f"the tool answered {text}"
        all_text = "\n".join(texts)
        schema, json_mode = self._hf_schema(req.get("response_format"))
        gen = _Generation("huggingface", model, last_user, all_text, schema, json_mode)
        prompt_tokens = _tokens(all_text)
        envelope: dict[str, Any] = {
            "id": f"chatcmpl-emu-{self.server.emulator._next_id()}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
        }
        if fault is not None and fault.kind == "empty":
            usage = {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": 0,
                "total_tokens": prompt_tokens,
            }
            self._send(200, {**envelope, "choices": [], "usage": usage})
            return
        call = _hf_tool_call(req)
        if fault is not None and fault.kind == "blocked":
            text, finish = "", "content_filter"
        elif call is not None:
            text, finish = "", "tool_calls"
        else:
            text, finish = _answer_text(gen, fault), "stop"
        out_tokens = _tokens(text or json.dumps(call)) if text or call else 0
        if fault is not None and fault.kind == "overbill":
            out_tokens = fault.tokens or 0
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": out_tokens,
            "total_tokens": prompt_tokens + out_tokens,
        }
        if streaming:
            self._send_sse(self._hf_chunks(envelope, text, finish, usage, call), fault)
            return
        answer: dict[str, Any] = {"role": "assistant", "content": text if call is None else None}
        if call is not None:
            answer["tool_calls"] = [call]
        choice = {"index": 0, "message": answer, "finish_reason": finish}
        self._send(200, {**envelope, "choices": [choice], "usage": usage})

    @staticmethod
    def _hf_schema(response_format: Any) -> tuple[Mapping[str, Any] | None, bool]:
        """Schema from any response_format shape: OpenAI json_schema, TGI json_object+value, ..."""
        if not isinstance(response_format, Mapping):
            return None, False
        kind = response_format.get("type")
        if kind not in ("json_schema", "json_object", "json"):
            return None, False
        candidate: Any = None
        inner = response_format.get("json_schema")
        if isinstance(inner, Mapping):
            candidate = inner.get("schema", inner)
        for key in ("value", "schema"):  # TGI / hf-inference {"value"}; Fireworks, Cohere {"schema"}
            if candidate is None and isinstance(response_format.get(key), Mapping):
                candidate = response_format[key]
        return (candidate if isinstance(candidate, Mapping) else None), True

    @staticmethod
    def _hf_chunks(
        envelope: Mapping[str, Any], text: str, finish: str, usage: Mapping[str, int], call: Mapping[str, Any] | None
    ) -> Iterator[str]:
        base = {**envelope, "object": "chat.completion.chunk"}
        if call is not None:  # a tool call's arguments come in two pieces, as OpenAI-compatible servers send them
            arguments = str(call["function"]["arguments"])
            half = len(arguments) // 2
            first: dict[str, Any] = {
                "index": 0,
                "id": call["id"],
                "type": "function",
                "function": {"name": call["function"]["name"], "arguments": arguments[:half]},
            }
            rest: dict[str, Any] = {"index": 0, "function": {"arguments": arguments[half:]}}  # fmt: skip
            for i, call_piece in enumerate((first, rest)):
                call_delta: dict[str, Any] = {"tool_calls": [call_piece]}
                if i == 0:
                    call_delta["role"] = "assistant"
                yield json.dumps({**base, "choices": [{"index": 0, "delta": call_delta, "finish_reason": None}]})
        pieces = _pieces(text)
        for i, piece in enumerate(pieces):
            delta = {"role": "assistant", "content": piece} if i == 0 else {"content": piece}
            yield json.dumps(
                {
                    **base,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
                }
            )
        last = {"index": 0, "delta": {}, "finish_reason": finish}
        yield json.dumps({**base, "choices": [last], "usage": dict(usage)})
        yield "[DONE]"

    # ---- sLM

    def _slm_generate(self, query: str, path: str, raw: bytes, body: Any) -> None:
        req = body if isinstance(body, Mapping) else {}
        model = str(req.get("model") or "slm")
        fault = self._begin("slm", model, query, path, body, generation=True)
        prompt = req.get("prompt")
        if not isinstance(prompt, str):
            detail = [{"loc": ["body", "prompt"], "msg": "Field required", "type": "missing"}]
            self._send(422, {"detail": detail})
            return
        if fault is not None and fault.kind == "empty":
            self._send(200, {})
            return
        if fault is not None and fault.kind == "blocked":
            self._send(400, {"detail": "prompt blocked by the content filter"})
            return
        gen = _Generation("slm", model, prompt, prompt, None, False)
        text = _answer_text(gen, fault)
        self._send(
            200,
            {
                "generated_text": text,
                "input_tokens": _tokens(prompt),
                "output_tokens": fault.tokens if fault is not None and fault.kind == "overbill" else _tokens(text),
            },
        )

    # ---- control API

    def _control(self, path: str) -> None:
        emu = self.server.emulator
        _, body = self._read_body()
        method = self.command
        if path == "/__emulator/health" and method == "GET":
            self._send(200, {"status": "ok", "url": emu.url})
        elif path == "/__emulator/faults" and method == "POST":
            items = body if isinstance(body, list) else [body]
            try:
                faults = [Fault.from_mapping(item) for item in items if isinstance(item, Mapping)]
                if len(faults) != len(items):
                    raise ValueError("body must be a fault object or a list of them")
            except (TypeError, ValueError) as exc:
                self._send(400, {"error": str(exc)})
                return
            for fault in faults:
                emu._add_fault(fault)
            self._send(201, {"faults": [asdict(f) for f in emu.faults]})
        elif path == "/__emulator/faults" and method == "GET":
            self._send(200, {"faults": [asdict(f) for f in emu.faults]})
        elif path == "/__emulator/faults" and method == "DELETE":
            emu.clear_faults()
            self._send(200, {"faults": []})
        elif path == "/__emulator/calls" and method == "GET":
            self._send(200, {"calls": [c.to_dict() for c in emu.calls]})
        elif path == "/__emulator/calls" and method == "DELETE":
            emu.clear_calls()
            self._send(200, {"calls": []})
        elif path == "/__emulator/reset" and method == "POST":
            emu.reset()
            self._send(200, {"status": "reset"})
        else:
            self._send(404, {"error": f"unknown control route {method} {path}"})


# --------------------------------------------------------------------------- public API


class ProviderEmulator:
    """A local Gemini / Hugging Face / sLM server that the real SDKs can call, and that can fail."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        require_auth: bool = True,
        verbose: bool = False,
    ) -> None:
        self.host = host
        self.port = port
        self.require_auth = require_auth
        self.verbose = verbose
        self._lock = threading.Lock()
        self._slots: list[_Slot] = []
        self._calls: list[RecordedCall] = []
        self._counter = 0
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:54321`` (the port is known once started)."""
        if self.port == 0:
            raise RuntimeError("the emulator has no port yet: call start() first")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def running(self) -> bool:
        """Whether the server is accepting connections."""
        return self._server is not None

    def start(self) -> Self:
        """Bind and serve in a daemon thread. Restarting after stop() reuses the same port."""
        if self._server is not None:
            return self
        self._stopping.clear()
        server = _Server((self.host, self.port), self)
        self.port = int(server.server_address[1])
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"provider-emulator-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; returns promptly, waking handlers that sleep in a delay fault."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=1.0)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ---- faults

    def fail(
        self,
        provider: str,
        kind: str,
        *,
        status: int | None = None,
        delay_s: float = 0.0,
        retry_after: str | None = None,
        times: int | None = None,
        model: str | None = None,
        body: str | None = None,
        tokens: int | None = None,
        after_chunks: int = 0,
    ) -> None:
        """Make matching calls fail.

        provider: "gemini", "huggingface", "slm" or "*". kind: status | delay | hang | malformed |
        empty | blocked | bad_json | reset | body | raw | overbill | cut | stall. ``delay_s`` is slept before any kind
        is applied (stall: it is the silence mid-stream instead). ``after_chunks``: cut and stall break a streamed
        answer after that many pieces of text (cut drops the connection; stall goes silent, then drops it).
        ``body``: the model's text (body), or the whole 200 answer verbatim (raw, any shape). ``tokens``: overbill
        answers normally but bills this many output tokens (Gemini: as thinking tokens).
        ``times``: only the next N matching calls (None: until reset). ``model``: only that model.
        Faults are tried in registration order; the first match wins. Answer-shaping kinds
        (empty, blocked, bad_json, body) only match generation calls, not probes.
        """
        self._add_fault(
            Fault(
                provider=provider,
                kind=kind,
                status=status,
                delay_s=delay_s,
                retry_after=retry_after,
                times=times,
                model=model,
                body=body,
                tokens=tokens,
                after_chunks=after_chunks,
            )
        )

    @property
    def faults(self) -> list[Fault]:
        """Faults still active, in matching order."""
        with self._lock:
            return [slot.fault for slot in self._slots]

    def clear_faults(self) -> None:
        """Remove every fault."""
        with self._lock:
            self._slots.clear()

    def reset(self) -> None:
        """Clear faults and recorded calls."""
        with self._lock:
            self._slots.clear()
            self._calls.clear()

    # ---- calls

    @property
    def calls(self) -> list[RecordedCall]:
        """A snapshot of recorded provider calls (control-API requests are not recorded)."""
        with self._lock:
            return list(self._calls)

    def calls_for(self, provider: str) -> list[RecordedCall]:
        """Recorded calls to one provider."""
        return [c for c in self.calls if c.provider == provider]

    def clear_calls(self) -> None:
        """Forget recorded calls."""
        with self._lock:
            self._calls.clear()

    # ---- internals used by the handler

    def _add_fault(self, fault: Fault) -> None:
        with self._lock:
            self._slots.append(_Slot(fault, fault.times))

    def _take_fault(self, provider: str, model: str | None, generation: bool) -> Fault | None:
        with self._lock:
            for slot in self._slots:
                if slot.fault.matches(provider, model, generation):
                    if slot.remaining is not None:
                        slot.remaining -= 1
                        if slot.remaining <= 0:
                            self._slots.remove(slot)
                    return slot.fault
        return None

    def _record(self, call: RecordedCall) -> None:
        with self._lock:
            self._calls.append(call)

    def _next_id(self) -> int:
        with self._lock:
            self._counter += 1
            return self._counter

    def _sleep(self, seconds: float) -> bool:
        """Sleep unless stopping; False when woken by stop()."""
        return not self._stopping.wait(seconds)


# --------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    """Run the emulator until SIGINT/SIGTERM."""
    parser = argparse.ArgumentParser(
        prog="python -m dev.emulator",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--no-auth", action="store_true", help="accept Gemini/HF calls without a key")
    parser.add_argument("--verbose", action="store_true", help="log each request to stderr")
    args = parser.parse_args(argv)

    done = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    emulator = ProviderEmulator(args.host, args.port, require_auth=not args.no_auth, verbose=args.verbose)
    emulator.start()
    url = emulator.url
    print(f"provider emulator listening on {url}", flush=True)
    print(
        f"  GEMINI_BASE_URL={url}  HF_BASE_URL={url}  SLM_ENDPOINT_URL={url}/generate",
        flush=True,
    )
    print(
        f"  faults: POST {url}/__emulator/faults   calls: GET {url}/__emulator/calls",
        flush=True,
    )
    try:
        while not done.wait(0.5):
            pass
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
