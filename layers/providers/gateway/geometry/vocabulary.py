"""The local parser's vocabulary: number and point syntax, units, shape words, and the patterns it reads."""

from __future__ import annotations

import re

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
    counterclockwise anticlockwise archimedean surface points' spread have has uniform distinct whose distribute
    arrange made consisting composed pattern arrangement formation""".split()  # noqa: SIM905 - a word list reads best as words
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
    (r"\bcircles?\b|\bcircular\b|\bring\b", "circle"),
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


def lengths(*alternatives: str) -> str:
    """Alternatives that each hold one length, as group a, b, c... (with its unit as a_unit...)."""
    return "|".join(alt.format(L=LEN.format(n=name)) for alt, name in zip(alternatives, "abcdef", strict=False))


THREE_D = r"\b(?:in\s+)?(?:3\s*-?\s*d|three[\s-]dimensional|3\s+dimensions)\b|\bin\s+space\b"
TWO_D = r"\b(?:in\s+)?(?:2\s*-?\s*d|two[\s-]dimensional|2\s+dimensions)\b|\bin\s+the\s+plane\b"
RANGES = rf"\[\s*{NUM}\s*,\s*{NUM}\s*\](?:\s*(?:x|by)\s*\[\s*{NUM}\s*,\s*{NUM}\s*\]){{1,2}}"
THROUGH = rf"\b(?:through|via|vertices|waypoints|corners)\s*(?:at\s*)?:?\s*{POINT}(?:{SEP}{POINT})+"
BETWEEN = rf"\b(?:between|from)\s+(?:the\s+points?\s+)?{POINT}(?:{SEP}{POINT})+"
CENTER_WORDS = r"\bcenter(?:ed)?\s*(?:at|on|around|in|=|:)?\s*(?:the\s+)?(?:point\s+)?"
# "centered at (1, 2)", "around the point (1, 2)", "(1, 2) as the center", and without brackets "centered at 1, 2".
CENTER = (
    rf"(?:{CENTER_WORDS}|\b(?:around|about|at)\s+(?:the\s+point\s+)?){POINT}|{POINT}\s+as\s+(?:the\s+)?center\b"
    rf"|{CENTER_WORDS}(?<![\d.]){NUM}\s*,\s*{NUM}(?:\s*,\s*{NUM})?(?![\d.])"
)
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
# "inside a circle" is its area; "in a circle" is its outline ("10 points in a circle", as "in a triangle"), save
# for shapes that are areas by name ("in a disc"). Random points are drawn inside whichever word was used.
INSIDE = (
    r"\b(?:inside|within|filling)\b"
    r"(?=\s+(?:an?\s+|the\s+)?(?:unit\s+)?(?:dis[ck]|circle|rectangle|square|box|area|region)\b)"
    r"|\bin\b(?=\s+(?:an?\s+|the\s+)?(?:unit\s+)?(?:dis[ck]|area|region)\b)"
)
IS = r"\s*(?:of|is|=|:)?\s*"
LENGTH_PATTERNS: list[tuple[str, float, str]] = [
    (lengths(rf"\binner\s+radius{IS}{{L}}"), 1.0, "inner_radius"),
    (lengths(rf"\b(?:outer\s+)?radius{IS}{{L}}", r"\br\s*=\s*{L}", r"{L}\s+radius\b"), 1.0, "radius"),
    (lengths(rf"\bdiameter{IS}{{L}}", r"{L}\s+diameter\b"), 0.5, "radius"),
    (lengths(rf"\bside(?:\s+length)?{IS}(?:length\s+)?{{L}}", r"\bsides?\s+of\s+(?:length\s+)?{L}"), 1, "side_length"),
    (lengths(rf"\bwidth{IS}{{L}}", r"{L}\s+wide\b"), 1.0, "width"),
    (lengths(r"\b(?:height|rising|rises)\s*(?:of|is|=|:|by)?\s*{L}", r"{L}\s+(?:tall|high)\b"), 1.0, "height"),
    (lengths(rf"\bpitch{IS}{{L}}"), 1.0, "pitch"),
    (lengths(rf"\blength{IS}{{L}}", r"{L}\s+long\b"), 1.0, "length"),
    (lengths(r"\bspac(?:ing|ed)\s*(?:of|at|by|=|:)?\s*{L}(?:\s+apart)?", r"{L}\s+apart\b"), 1.0, "spacing"),
]
RADII = lengths(r"\b(?:radii|semi-?axes)\s*(?:of\s+)?{L}\s*(?:and|,|by|x)\s*") + LEN.format(n="b")
