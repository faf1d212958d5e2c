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

from gateway.geometry.engine import anchor, complete
from gateway.geometry.spec import Spec, SpecError, describe

NUM = r"[-+]?(?:\d+(?:\.\d+)?|\.\d+)(?:e[-+]?\d+)?"
INT = r"\d+"
UNITS = {
    "mm": ("m", 0.001), "millimeter": ("m", 0.001), "millimeters": ("m", 0.001),
    "cm": ("m", 0.01), "centimeter": ("m", 0.01), "centimeters": ("m", 0.01),
    "m": ("m", 1.0), "meter": ("m", 1.0), "meters": ("m", 1.0),
    "km": ("m", 1000.0), "kilometer": ("m", 1000.0), "kilometers": ("m", 1000.0),
    "inch": ("m", 0.0254), "inches": ("m", 0.0254), "ft": ("m", 0.3048), "foot": ("m", 0.3048), "feet": ("m", 0.3048),
    "px": ("px", 1.0), "pixel": ("px", 1.0), "pixels": ("px", 1.0),
    "unit": ("units", 1.0), "units": ("units", 1.0),
}  # fmt: skip
UNIT_NAMES = {
    "mm": "mm", "millimeter": "mm", "millimeters": "mm", "cm": "cm", "centimeter": "cm", "centimeters": "cm",
    "m": "m", "meter": "m", "meters": "m", "km": "km", "kilometer": "km", "kilometers": "km", "inch": "in",
    "inches": "in", "ft": "ft", "foot": "ft", "feet": "ft", "px": "px", "pixel": "px", "pixels": "px",
    "unit": "units", "units": "units",
}  # fmt: skip
UNIT = r"(?:" + "|".join(sorted(map(re.escape, UNITS), key=len, reverse=True)) + r")\b"
# No number starts inside another: without the look-behind, "1111…" is tried from every digit (quadratic).
LEN = rf"(?<![\d.])(?P<{{n}}>{NUM})(?:\s*(?P<{{n}}_unit>{UNIT}))?"
POINT = rf"[(\[]\s*{NUM}\s*,\s*{NUM}(?:\s*,\s*{NUM})?\s*[)\]]"
ANGLE = rf"{NUM}\s*(?:degrees?|deg|radians?|rad)?"
SEP = r"\s*(?:,|;|\band\b|\bto\b|\bthen\b|->)\s*(?:\band\b\s*|\bthen\b\s*)?"

NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip
POINT_NOUNS = r"(?:points?|dots?|vertices|samples?|positions?|locations?|coordinates|nodes?|markers?|pts)"
POINT_ADJECTIVES = (
    r"(?:(?:evenly|equally|uniformly|regularly|randomly|equidistant|spaced|distributed|placed|random|uniform|"
    r"scattered|distinct|sample|more)\s+)*"
)
# Words that carry no geometry; anything else left over means the prompt said something not understood.
FILLER = frozenset(
    """\
    a an the of on in with and at to along around over across its their it is are be that which each every all
    points point dots dot vertices vertex corners corner nodes node samples sample positions position locations
    location coordinates coordinate markers marker pts evenly equally uniformly regularly spaced distributed placed
    arranged laid out lying lie lies sitting sit generate give me create make draw produce compute return list get
    output place put plot please regular shape shaped edges edge perimeter outline boundary border circumference for
    i want need would like could you can some set exactly total 2d plane equidistant forming form forms as by
    counterclockwise anticlockwise archimedean surface points' spread have has uniform distinct whose""".split()  # noqa: SIM905 - a word list reads best as words
)
SHAPES: list[tuple[str, str]] = [
    (r"\bfibonacci\s+(?:lattice|sphere)\b", "sphere"),
    (r"\bunit\s+circle\b", "unit_circle"),
    (r"\bunit\s+square\b", "unit_square"),
    (r"\bunit\s+sphere\b", "unit_sphere"),
    (r"\bunit\s+cube\b", "unit_cube"),
    (r"\bquarter(?:\s*-\s*|\s+of\s+a\s+|\s+)circle\b", "quarter"),
    (r"\b(?:semi\s*-?\s*circle|half(?:\s*-\s*|\s+of\s+a\s+|\s+)circle)\b", "semicircle"),
    (r"\bline\s+segment\b|\bstraight\s+line\b", "line"),
    (r"\b(?:cube|cubic|3d)\s+(?:grid|lattice)\b|\bcube\b", "cube_grid"),
    (r"\bcircles?\b|\bring\b", "circle"),
    (r"\bdis[ck]s?\b", "disc"),
    (r"\barcs?\b", "arc"),
    (r"\bellipses?\b|\bovals?\b|\belliptical\b", "ellipse"),
    (r"\btriangles?\b|\btriangular\b", "polygon:3"),
    (r"\bsquares?\b", "polygon:4"),
    (r"\bpentagons?\b", "polygon:5"),
    (r"\bhexagons?\b|\bhexagonal\b", "polygon:6"),
    (r"\bheptagons?\b", "polygon:7"),
    (r"\boctagons?\b|\boctagonal\b", "polygon:8"),
    (r"\bnonagons?\b", "polygon:9"),
    (r"\bdecagons?\b", "polygon:10"),
    (r"\bdodecagons?\b", "polygon:12"),
    (r"\bpolygons?\b", "polygon"),
    (r"\brectangles?\b|\brectangular\b|\bbox\b", "rectangle"),
    (r"\bpentagram\b", "star:5"),
    (r"\bhexagram\b", "star:6"),
    (r"\bstars?\b", "star"),
    (r"\bsegments?\b|\blines?\b", "line"),
    (r"\bpolylines?\b|\bpaths?\b|\broute\b", "polyline"),
    (r"\bgrids?\b|\blattice\b", "grid"),
    (r"\bspirals?\b", "spiral"),
    (r"\bspheres?\b|\bspherical\b|\bglobe\b", "sphere"),
    (r"\bhelix\b|\bhelical\b|\bcoil\b|\bspring\b", "helix"),
]


# Pairs that name one shape: "a pentagram star", "an arc of a circle", "a square grid", "a cube grid".
SAME_SHAPE = [
    ("star:", "star"),
    ("arc", "circle"),
    ("semicircle", "circle"),
    ("quarter", "circle"),
    ("grid", "polygon:4"),
    ("cube_grid", "grid"),
    ("unit_cube", "grid"),
]


@dataclass
class Parsed:
    """What the parser made of a prompt."""

    spec: Spec | None
    understood: bool
    unknown: list[str] = field(default_factory=list)
    reason: str | None = None


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
        spec, unused = _build(found)
    except (SpecError, ValidationError) as exc:
        reason = describe(exc) if isinstance(exc, ValidationError) else str(exc)
        return Parsed(None, False, unknown, reason)
    if spec is None:
        return Parsed(None, False, unknown, "no shape named")
    problems = [
        *(f"conflicting {name}" for name in dict.fromkeys(found.conflicts)),
        *(f"{name} does not apply to this shape" for name in unused),
        *(["numbers it could not place"] if numbers else []),
    ]
    return Parsed(spec, not unknown and not problems, unknown, "; ".join(problems) or None)


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


def _lengths(*alternatives: str) -> str:
    """Alternatives that each hold one length, as group a, b, c... (with its unit as a_unit...)."""
    return "|".join(alt.format(L=LEN.format(n=name)) for alt, name in zip(alternatives, "abcdef", strict=False))


THREE_D = r"\b(?:in\s+)?(?:3\s*-?\s*d|three[\s-]dimensional|3\s+dimensions)\b|\bin\s+space\b"
TWO_D = r"\b(?:in\s+)?(?:2\s*-?\s*d|two[\s-]dimensional|2\s+dimensions)\b|\bin\s+the\s+plane\b"
RANGES = rf"\[\s*{NUM}\s*,\s*{NUM}\s*\](?:\s*(?:x|by)\s*\[\s*{NUM}\s*,\s*{NUM}\s*\]){{1,2}}"
THROUGH = rf"\b(?:through|via|vertices|waypoints|corners)\s*(?:at\s*)?:?\s*{POINT}(?:{SEP}{POINT})+"
BETWEEN = rf"\b(?:between|from)\s+(?:the\s+points?\s+)?{POINT}(?:{SEP}{POINT})+"
CENTER_WORDS = r"\bcenter(?:ed)?\s*(?:at|on|around|in|=|:)?\s*(?:the\s+)?(?:point\s+)?"
CENTER = rf"(?:{CENTER_WORDS}|\b(?:around|about|at)\s+(?:the\s+point\s+)?){POINT}|{POINT}\s+as\s+(?:the\s+)?center\b"
ORIGIN = rf"(?:{CENTER_WORDS}|\b(?:around|about|at)\s+)?the\s+origin\b|\borigin\b"
ANGLES = rf"\b(?:from|between)\s+(?P<a>{ANGLE})\s+(?:to|and)\s+(?P<b>{ANGLE})"
ROTATED = rf"\b(?:rotated|turned|tilted)\s+(?:by\s+)?(?P<a>{ANGLE})"
STARTING = (
    r"\b(?:starting|beginning|start(?:ing)?\s+angle|first\s+point)\s*(?:at|from|of|=|:)?\s*(?:angle\s+)?"
    rf"(?P<a>{ANGLE})"
)
SWEEP = (
    rf"(?<![\d.])(?P<a>{NUM})\s*-?\s*degrees?\s+(?=arc\b)"
    rf"|\b(?:spanning|covering|sweeping|sweep\s+of)\s+(?P<b>{ANGLE})"
)
STAR_TIPS = (
    rf"\b(?P<n>{INT})\s*-?\s*point(?:ed)?\s+(?=star\b)"
    rf"|\bstar\s+with\s+(?P<m>{INT})\s+(?:points|tips|arms|spikes|rays)\b"
)
SIDES = rf"\b(?P<n>{INT})\s*-?\s*(?:sided|gon)\b|\b(?:with\s+)?(?P<m>{INT})\s+(?:sides|edges)\b"
BY = r"\s*(?:x|by|\*)\s*"
SIZES = "".join(
    (
        rf"\b(?P<a>{NUM})(?:\s*(?P<a_unit>{UNIT}))?{BY}(?P<b>{NUM})(?:\s*(?P<b_unit>{UNIT}))?",
        rf"(?:{BY}(?P<c>{NUM})(?:\s*(?P<c_unit>{UNIT}))?)?",
    )
)
TURNS = (
    rf"\b(?P<n>{NUM})\s+(?:full\s+)?(?:turns?|revolutions?|loops?|rotations?|coils?|windings?)\b"
    rf"|\bturns?\s*(?:of|=|:)\s*(?P<m>{NUM})"
)
COUNT = rf"\bcount\s*(?:of|is|=|:)?\s*(?P<n>{INT})\b|\b(?P<m>{INT})\s+(?={POINT_ADJECTIVES}{POINT_NOUNS}\b)"
INSIDE = (
    r"\b(?:inside|within|filling|in)\b"
    r"(?=\s+(?:an?\s+|the\s+)?(?:unit\s+)?(?:dis[ck]|circle|rectangle|square|box|area|region)\b)"
)
IS = r"\s*(?:of|is|=|:)?\s*"
LENGTH_PATTERNS: list[tuple[str, float, str]] = [
    (_lengths(rf"\binner\s+radius{IS}{{L}}"), 1.0, "inner_radius"),
    (_lengths(rf"\b(?:outer\s+)?radius{IS}{{L}}", r"\br\s*=\s*{L}", r"{L}\s+radius\b"), 1.0, "radius"),
    (_lengths(rf"\bdiameter{IS}{{L}}", r"{L}\s+diameter\b"), 0.5, "radius"),
    (_lengths(rf"\bside(?:\s+length)?{IS}(?:length\s+)?{{L}}", r"\bsides?\s+of\s+(?:length\s+)?{L}"), 1, "side_length"),
    (_lengths(rf"\bwidth{IS}{{L}}", r"{L}\s+wide\b"), 1.0, "width"),
    (_lengths(r"\b(?:height|rising|rises)\s*(?:of|is|=|:|by)?\s*{L}", r"{L}\s+(?:tall|high)\b"), 1.0, "height"),
    (_lengths(rf"\bpitch{IS}{{L}}"), 1.0, "pitch"),
    (_lengths(rf"\blength{IS}{{L}}", r"{L}\s+long\b"), 1.0, "length"),
    (_lengths(r"\bspac(?:ing|ed)\s*(?:of|at|by|=|:)?\s*{L}(?:\s+apart)?", r"{L}\s+apart\b"), 1.0, "spacing"),
]
RADII = _lengths(r"\b(?:radii|semi-?axes)\s*(?:of\s+)?{L}\s*(?:and|,|by|x)\s*") + LEN.format(n="b")


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
        found.set("center", _vec(re.findall(POINT, m[0])[0]))
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


class _Use:
    """The parsed values, remembering which ones the spec used: a value left unused was not understood."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values
        self.used: set[str] = set()

    def __contains__(self, name: str) -> bool:
        return name in self.values

    def __getitem__(self, name: str) -> Any:
        self.used.add(name)
        return self.values[name]

    def get(self, name: str, default: Any = None) -> Any:
        if name in self.values:
            self.used.add(name)
        return self.values.get(name, default)

    def peek(self, name: str) -> Any:
        return self.values.get(name)

    def pick(self, *names: str) -> dict[str, Any]:
        return {name: self[name] for name in names if name in self}

    def unused(self) -> list[str]:
        return sorted(set(self.values) - self.used - {"tuple_units"})


def _build(found: _Found) -> tuple[Spec | None, list[str]]:
    """The spec the found values describe, and the names of values it had no use for."""
    v = _Use(found.values)
    shapes = list(dict.fromkeys(found.shapes))
    shape = _one_shape(shapes, bool(v.get("random")), v.peek("path"))
    if shape is None:
        return None, []
    primitive = _primitive(shape, shapes, v)
    transforms: list[dict[str, Any]] = []
    if "rotation" in v:
        about = anchor(complete(Spec.model_validate({"primitives": [primitive]}).primitives[0]))
        transforms.append({"kind": "rotate", "angle": v["rotation"], "about": about})
    spec: dict[str, Any] = {"primitives": [primitive], "transforms": transforms, **v.pick("dimensions", "unit")}
    return Spec.model_validate(spec), v.unused()


def _primitive(shape: str, shapes: list[str], v: _Use) -> dict[str, Any]:
    def base() -> dict[str, Any]:
        return v.pick("center", "count")

    if shape == "random_rect":
        v.get("inside")
        low, high = _box(v, shapes) or ([0.0, 0.0], [1.0, 1.0])
        return {"kind": "random_in_rectangle", "min_corner": low, "max_corner": high, **v.pick("count", "seed")}
    if shape == "random_disc":
        v.get("inside")
        radius = {"radius": 1.0} if "unit_circle" in shapes else v.pick("radius")
        return {"kind": "random_in_disc", **base(), **radius, **v.pick("seed")}
    if shape in ("circle", "unit_circle"):
        radius = {"radius": 1.0} if shape == "unit_circle" else v.pick("radius")
        return {"kind": "circle", **base(), **radius, **v.pick("start_angle", "clockwise")}
    if shape in ("arc", "semicircle", "quarter"):
        if "angles" in v:
            start, end = v["angles"]
        else:
            start = v.get("start_angle", 0.0)
            sweep = {"semicircle": 180.0, "quarter": 90.0}.get(shape) or v.get("sweep")
            if sweep is None:
                raise SpecError("an arc needs its angles")
            end = start - sweep if v.get("clockwise") else start + sweep
        return {"kind": "arc", **base(), **v.pick("radius"), "start_angle": start, "end_angle": end}
    if shape == "ellipse":
        primitive = {"kind": "ellipse", **base(), **v.pick("radius_x", "radius_y", "start_angle", "clockwise")}
        if "radius_x" not in v:
            width, height = _extent(v)
            if width is not None and height is not None:
                primitive |= {"radius_x": width / 2, "radius_y": height / 2}
        if "rotation" in v:
            primitive["rotation"] = v["rotation"]
            del v.values["rotation"]  # a tilt of the ellipse itself, not a rotate transform
        return primitive
    if shape.startswith("polygon") or shape == "unit_square":
        sides = int(shape.split(":")[1]) if ":" in shape else v.get("sides", 4 if shape == "unit_square" else None)
        if sides is None:
            raise SpecError("a polygon needs its number of sides")
        if sides == 4 and "tuple" in v:  # "a 5 by 3 square" is a rectangle
            return _rectangle(v, shapes)
        path = v.peek("path")
        if path is not None:  # "a triangle with vertices ...": not regular, so a closed path through them
            if len(path) == 2 and sides == 4:
                return _rectangle(v, shapes)
            if len(path) != sides:
                raise SpecError(f"a shape with {sides} sides through {len(path)} points")
            return {"kind": "polyline", "vertices": v["path"], "closed": True, **v.pick("count")}
        if ":" in shape and "sides" in v and v["sides"] != sides:
            raise SpecError("conflicting numbers of sides")
        primitive = {"kind": "polygon", "sides": sides, **base(), **v.pick("radius", "side_length", "clockwise")}
        if shape == "unit_square":
            primitive |= {"side_length": 1.0, "center": v.get("center", [0.5, 0.5])}
        first = v.get("start_angle", 270 - 180 / sides)
        if "rotation" in v:
            first += v["rotation"]
            del v.values["rotation"]
        if "start_angle" in v.used or first != 270 - 180 / sides:
            primitive["start_angle"] = first
        return primitive
    if shape == "rectangle":
        return _rectangle(v, shapes)
    if shape.startswith("star"):
        sides = int(shape.split(":")[1]) if ":" in shape else v.get("sides", 5)
        sizes = v.pick("radius", "inner_radius", "start_angle", "clockwise")
        return {"kind": "star", "sides": sides, **base(), **sizes}
    if shape == "line":
        primitive = {"kind": "line", **v.pick("count")}
        if "path" in v:
            path = v["path"]
            if len(path) != 2:
                raise SpecError("a line has two ends")
            return primitive | {"start": path[0], "end": path[1]}
        if "length" in v:
            c = v.get("center", [0.0, 0.0])
            half = v["length"] / 2
            return primitive | {"start": [c[0] - half, *c[1:]], "end": [c[0] + half, *c[1:]]}
        return primitive
    if shape == "polyline":
        if "path" not in v:
            raise SpecError("a path needs its vertices")
        return {"kind": "polyline", "vertices": v["path"], **v.pick("count", "closed")}
    if shape in ("grid", "cube_grid", "unit_cube"):
        return _grid(shape, v)
    if shape == "spiral":
        return {"kind": "spiral", **base(), **v.pick("radius", "inner_radius", "turns", "start_angle", "clockwise")}
    if shape in ("sphere", "unit_sphere"):
        return {"kind": "sphere", **base(), **({"radius": 1.0} if shape == "unit_sphere" else v.pick("radius"))}
    if shape == "helix":
        primitive = {"kind": "helix", **base(), **v.pick("radius", "turns", "height", "start_angle", "clockwise")}
        if "pitch" in v and "height" not in primitive:
            primitive["height"] = v["pitch"] * primitive.get("turns", 3.0)
        return primitive
    raise SpecError(f"no drawing for {shape}")  # pragma: no cover - _one_shape returns only the shapes above


def _rectangle(v: _Use, shapes: list[str]) -> dict[str, Any]:
    box = _box(v, shapes)
    if box is None:
        raise SpecError("a rectangle needs its size or corners")
    (x0, y0, *_), (x1, y1, *_) = box
    corners = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
    return {"kind": "polyline", "vertices": corners, "closed": True, **v.pick("count")}


def _grid(shape: str, v: _Use) -> dict[str, Any]:
    tuple_ = v.peek("tuple")
    three = shape != "grid" or v.peek("dimensions") == 3 or (tuple_ is not None and len(tuple_) == 3)
    primitive: dict[str, Any] = {"kind": "cube_grid" if three else "grid", **v.pick("rows", "columns", "spacing")}
    if three:
        primitive |= v.pick("layers")
    if tuple_ is not None:
        sizes = v["tuple"]
        if any(t != int(t) for t in sizes):
            raise SpecError("grid sizes are whole numbers")
        primitive |= dict(zip(("columns", "rows", "layers"), (int(t) for t in sizes), strict=False))
    path = v.peek("path")
    if shape == "unit_cube":
        primitive |= {"min_corner": [0.0, 0.0, 0.0], "max_corner": [1.0, 1.0, 1.0]}
    elif "box" in v or (path is not None and len(path) == 2):
        low, high = v["box"] if "box" in v else v["path"]
        primitive |= {"min_corner": low, "max_corner": high}
    elif three and "side_length" in v:
        c = _pad3(v.get("center", [0.0, 0.0, 0.0]))
        half = v["side_length"] / 2
        primitive |= {"min_corner": [x - half for x in c], "max_corner": [x + half for x in c]}
    else:
        primitive |= v.pick("center")
    if "count" in v:
        count = v["count"]
        names = ("columns", "rows", "layers")[: 3 if three else 2]
        if any(name in primitive for name in names):
            cells = math.prod(primitive.get(name, 2 if three else 3) for name in names)
            if cells != count:
                raise SpecError(f"a grid of {cells} points cannot hold {count}")
        primitive["count"] = count
    return primitive


def _one_shape(shapes: list[str], random: bool, path: list[list[float]] | None) -> str | None:
    """The one shape the prompt names, or None; two different shapes are not a prompt it understands."""
    if random:
        if not shapes or set(shapes) <= {"rectangle", "polygon:4", "unit_square", "cube_grid", "unit_cube"}:
            return "random_rect"
        if set(shapes) <= {"circle", "disc", "unit_circle"}:
            return "random_disc"
        raise SpecError("random points are drawn in a rectangle, a box or a disc")
    if not shapes:
        if path is not None:
            return "line" if len(path) == 2 else "polyline"
        return None
    for keep, drop in SAME_SHAPE:
        if drop in shapes and any(s.startswith(keep) for s in shapes if s != drop):
            shapes = [s for s in shapes if s != drop]
    if len(shapes) > 1:
        raise SpecError(f"more than one shape named: {', '.join(shapes)}")
    if shapes[0] == "disc":
        raise SpecError("points on a disc: on its edge or inside it?")
    return shapes[0]


def _box(v: _Use, shapes: list[str]) -> tuple[list[float], list[float]] | None:
    """The rectangle (or box) a prompt describes: ranges, two corners, a unit square, or a size around a centre."""
    if "box" in v:
        low, high = v["box"]
        return list(low), list(high)
    path = v.peek("path")
    if path is not None and len(path) == 2:
        return list(v["path"][0]), list(v["path"][1])
    if "unit_square" in shapes:
        return [0.0, 0.0], [1.0, 1.0]
    if "unit_cube" in shapes:
        return [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]
    width, height = _extent(v)
    if width is None and "side_length" in v:
        width = height = v["side_length"]
    if width is None or height is None:
        return None
    c = v.get("center", [0.0, 0.0])
    return [c[0] - width / 2, c[1] - height / 2], [c[0] + width / 2, c[1] + height / 2]


def _extent(v: _Use) -> tuple[float | None, float | None]:
    tuple_ = v.peek("tuple")
    if tuple_ is not None and len(tuple_) == 2:
        width, height = v["tuple"]
        return float(width), float(height)
    if "width" in v and "height" in v:
        return v["width"], v["height"]
    return None, None


def _pad3(v: list[float]) -> list[float]:
    return [*v, 0.0] if len(v) == 2 else list(v)
