"""A local parser for common point prompts: shape words, numbers, radius, centre, between, grids, units.

It answers without any provider. `understood` is True only when every word and number of the prompt
was accounted for; a prompt with words it does not know still yields a spec when a shape was found,
with those words listed in `unknown`, so the endpoint can use it as a last resort and say so.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from gateway.geometry.prompt_numbers import PromptNumbers
from gateway.geometry.prompt_spec import build_spec
from gateway.geometry.spec import Spec, SpecError, describe
from gateway.geometry.vocabulary import (
    ANGLES,
    BETWEEN,
    CENTER,
    COUNT,
    FILLER,
    INSIDE,
    INT,
    IS,
    LENGTH_PATTERNS,
    NUM,
    NUMBER_WORDS,
    ORIGIN,
    POINT,
    RADII,
    RANGES,
    ROTATED,
    SHAPES,
    SIDES,
    SIZES,
    STAR_TIPS,
    STARTING,
    SWEEP,
    THREE_D,
    THROUGH,
    TURNS,
    TWO_D,
    UNIT,
    UNIT_NAMES,
    UNITS,
)


@dataclass
class Parsed:
    """What the parser made of a prompt; `numbers`: what it states that a model's spec must keep."""

    spec: Spec | None
    understood: bool
    unknown: list[str] = field(default_factory=list)
    reason: str | None = None
    numbers: PromptNumbers = field(default_factory=PromptNumbers)


@dataclass
class _Found:
    values: dict[str, Any] = field(default_factory=dict)
    shapes: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    units: list[str] = field(default_factory=list)

    def set(self, name: str, value: Any) -> None:
        if name in self.values and self.values[name] != value:
            self.conflicts.append(name)
        self.values[name] = value

    def get(self, name: str, default: Any = None) -> Any:
        return self.values.get(name, default)


class _Scanner:
    """Regex matches that consume the text they cover, so each word is read once."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.used = [False] * len(text)

    def take(self, pattern: str) -> Iterator[re.Match[str]]:
        for match in re.finditer(pattern, self.text):
            start, end = match.span()
            if start == end or any(self.used[start:end]):
                continue
            for i in range(start, end):
                self.used[i] = True
            yield match

    def leftover(self) -> str:
        return "".join(" " if used else ch for ch, used in zip(self.text, self.used, strict=True))


def parse_prompt(prompt: str) -> Parsed:
    """Read a prompt into a spec; `understood` only when nothing in it was left unexplained."""
    text = _normalise(prompt)
    scan = _Scanner(text)
    found = _Found()
    _read(scan, found)
    leftover = scan.leftover()
    unknown = [w for w in re.findall(r"[a-z][a-z']*", leftover) if w not in FILLER]
    numbers = re.findall(r"\d", leftover)
    try:
        spec, unused = build_spec(found.values, found.shapes)
    except (SpecError, ValidationError) as exc:
        reason = describe(exc) if isinstance(exc, ValidationError) else str(exc)
        return Parsed(None, False, unknown, reason)
    problems = [
        *(f"conflicting {name}" for name in dict.fromkeys(found.conflicts)),
        *(f"{name} does not apply to this shape" for name in unused),
        *(["numbers it could not place"] if numbers else []),
    ]
    stated = _stated(found, text) if not problems else PromptNumbers()
    if spec is None:
        return Parsed(None, False, unknown, "no shape named", stated)
    return Parsed(spec, not unknown and not problems, unknown, "; ".join(problems) or None, stated)


# With no shape named, the parser cannot tell whether a value it read applies to the shape meant: the prompt's
# numbers are held to only when every value read is one of these.
_SHAPELESS_VALUES = frozenset({"count", "radius", "side_length", "center", "unit", "dimensions"})


def _stated(found: _Found, text: str) -> PromptNumbers:
    """What the prompt states for sure: every number placed, nothing conflicting, one shape or none."""
    values = found.values
    if not found.shapes and not set(values) <= _SHAPELESS_VALUES:
        return PromptNumbers()
    per_shape = re.search(r"\b(?:each|per|apiece)\b", text)  # "8 points each": not the total
    return PromptNumbers(
        count=None if per_shape else values.get("count"),
        radius=values.get("radius"),
        side_length=values.get("side_length"),
        unit=values.get("unit"),
    )


def _normalise(prompt: str) -> str:
    text = prompt.lower()
    replacements = {"centred": "centered", "centre": "center", "metre": "meter", "°": " degrees", "×": " x "}
    replacements |= {"\u2212": "-", "\u2013": "-"}  # minus sign, en dash
    for old, new in replacements.items():
        text = text.replace(old, new)
    text = re.sub(r"\ba\s+dozen\b|\bdozen\b", "12", text)
    text = re.sub(r"\ba\s+hundred\b|\bone\s+hundred\b", "100", text)
    text = re.sub(r"\ba\s+thousand\b|\bone\s+thousand\b", "1000", text)
    tens = "|".join(k for k, v in NUMBER_WORDS.items() if v >= 20)
    units = "|".join(k for k, v in NUMBER_WORDS.items() if 0 < v < 10)
    text = re.sub(rf"\b({tens})[\s-]({units})\b", lambda m: str(NUMBER_WORDS[m[1]] + NUMBER_WORDS[m[2]]), text)
    text = re.sub(r"\b(" + "|".join(NUMBER_WORDS) + r")\b", lambda m: str(NUMBER_WORDS[m[1]]), text)
    return " ".join(text.split())


def _vec(text: str) -> list[float]:
    return [float(v) for v in re.findall(NUM, text)]


def _angle(text: str) -> float:
    value = float(re.findall(NUM, text)[0])
    return math.degrees(value) if re.search(r"rad", text) else value


def _read(scan: _Scanner, found: _Found) -> None:
    """Consume every pattern the parser knows, most specific first, recording what each says."""
    lengths: list[tuple[str, float, str | None]] = []

    def length(match: re.Match[str], name: str, factor: float = 1.0) -> None:
        group = next(g for g in "abcdef" if match.groupdict().get(g) is not None)
        lengths.append((name, float(match[group]) * factor, match.groupdict().get(f"{group}_unit")))

    for _ in scan.take(THREE_D):
        found.set("dimensions", 3)
    for _ in scan.take(TWO_D):
        found.set("dimensions", 2)
    # Coordinates first: they hold numbers every later pattern would otherwise misread.
    for m in scan.take(RANGES):
        ranges = [_vec(r) for r in re.findall(r"\[[^\]]*\]", m[0])]
        found.set("box", ([r[0] for r in ranges], [r[1] for r in ranges]))
    for m in (*scan.take(THROUGH), *scan.take(BETWEEN)):
        found.set("path", [_vec(p) for p in re.findall(POINT, m[0])])
    for m in scan.take(CENTER):
        found.set("center", _vec(m[0]))
    for _ in scan.take(ORIGIN):
        found.set("center", [0.0, 0.0])
    for m in scan.take(ANGLES):
        found.set("angles", (_angle(m["a"]), _angle(m["b"])))
    for m in scan.take(ROTATED):
        found.set("rotation", _angle(m["a"]))
    for m in scan.take(STARTING):
        found.set("start_angle", _angle(m["a"]))
    for m in scan.take(SWEEP):
        found.set("sweep", _angle(m["a"] or m["b"]))
    # Counts bound to a shape before the generic "N points".
    for m in scan.take(STAR_TIPS):
        found.set("sides", int(m["n"] or m["m"]))
        found.shapes.append("star")
    for m in scan.take(SIDES):
        found.set("sides", int(m["n"] or m["m"]))
    for m in scan.take(SIZES):
        found.set("tuple", [float(m[g]) for g in "abc" if m[g] is not None])
        found.set("tuple_units", [m[f"{g}_unit"] for g in "abc" if m[g] is not None])
        found.units.extend(u for u in (m["a_unit"], m["b_unit"], m["c_unit"]) if u)
    for name in ("rows", "columns", "layers"):
        for m in scan.take(rf"\b(?P<n>{INT})\s+{name}\b|\b{name}\s*(?:=|:)\s*(?P<m>{INT})"):
            found.set(name, int(m["n"] or m["m"]))
    for m in scan.take(RADII):
        lengths.append(("radius_x", float(m["a"]), m["a_unit"]))
        lengths.append(("radius_y", float(m["b"]), m["b_unit"]))
    for pattern, factor, name in LENGTH_PATTERNS:
        for m in scan.take(pattern):
            length(m, name, factor)
    for m in scan.take(TURNS):
        found.set("turns", float(m["n"] or m["m"]))
    for m in scan.take(rf"\b(?:random\s+)?seed{IS}(?P<n>{INT})"):
        found.set("seed", int(m["n"]))
    for m in scan.take(COUNT):
        found.set("count", int(m["n"] or m["m"]))
    for _ in scan.take(r"\b(?:at\s+random|randomly|random|scattered)\b"):
        found.set("random", True)
    for _ in scan.take(INSIDE):
        found.set("inside", True)
    for _ in scan.take(r"\b(?:closed|loop(?:ing)?\s+back|back\s+to\s+the\s+start)\b"):
        found.set("closed", True)
    for m in scan.take(r"\b(?:counter|anti)?-?clockwise\b"):
        found.set("clockwise", not m[0].startswith(("counter", "anti")))
    for pattern, shape in SHAPES:
        for _ in scan.take(pattern):
            found.shapes.append(shape)
    # A count with a noun the parser does not know ("12 chairs"): usable, but the noun stays unknown.
    if "count" not in found.values:
        for m in re.finditer(rf"\b(?P<n>{INT})\s+(?P<noun>[a-z]+s)\b", scan.text):
            noun = m.span("noun")
            if (
                re.fullmatch(UNIT, m["noun"])
                or any(scan.used[noun[0] : noun[1]])
                or any(scan.used[slice(*m.span("n"))])
            ):
                continue  # "3 circles" is three shapes, not three points
            scan.used[m.start("n") : m.end("n")] = [True] * (m.end("n") - m.start("n"))
            found.set("count", int(m["n"]))
    _settle_units(found, lengths)


def _settle_units(found: _Found, lengths: list[tuple[str, float, str | None]]) -> None:
    """Express every length in the first unit the prompt names; a bare number is in that unit."""
    named = [u for u in (*(u for _, _, u in lengths), *found.units) if u]
    base = named[0] if named else None
    if base is not None:
        families = {UNITS[u][0] for u in named}
        if len(families) > 1:
            found.conflicts.append("units")
        found.set("unit", UNIT_NAMES[base])
    scale = UNITS[base][1] if base else 1.0
    for name, value, unit in lengths:
        found.set(name, value * UNITS[unit][1] / scale if unit else value)
    if "tuple" in found.values and base:
        tuple_units = found.get("tuple_units") or []
        found.values["tuple"] = [
            v * UNITS[u][1] / scale if u else v for v, u in zip(found.values["tuple"], tuple_units, strict=False)
        ]
