"""Float noise off exact points: a value within a few ULPs of a simple number becomes that number.

`cos(60°) * 30` is 15.000000000000004 in floating point and `sin(180°) * 100` is 1.2e-14; the shape meant 15
and 0. A coordinate is snapped when it lies within `ULPS` units in the last place of the drawing's largest
coordinate (its scale: the precision every coordinate of it was computed to) of a number with at most
`DIGITS` significant digits at that scale. The move is at most those few ULPs, so no geometry changes; a
value that is not that close to a simple number (25.98076211353316, 15√3) is left exactly as computed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

ULPS = 16
DIGITS = 7  # simple numbers are multiples of 10^(e - 6), e the decimal exponent of the scale


def snap_points(points: Sequence[Sequence[float]]) -> list[list[float]]:
    """The points with every coordinate snapped at the scale of the whole drawing."""
    scale = max((abs(v) for point in points for v in point), default=0.0)
    if not _snappable(scale):
        return [[v + 0.0 for v in point] for point in points]
    tolerance, exponent = _grid(scale)
    # `snap` inline (a call per coordinate would double the time): divide by an exact power of ten, never
    # multiply by an inexact 10^-k, so that the simple number is the nearest float to it.
    if exponent < 0:
        step = 10**-exponent
        return [
            [q + 0.0 if abs(v - (q := round(v * step) / step)) <= tolerance else v + 0.0 for v in point]
            for point in points
        ]
    unit = 10**exponent
    return [
        [q + 0.0 if abs(v - (q := float(round(v / unit) * unit))) <= tolerance else v + 0.0 for v in point]
        for point in points
    ]


def snap(value: float, scale: float | None = None) -> float:
    """`value` moved onto the simple number it is noise around (at the given scale, by default its own)."""
    scale = abs(value) if scale is None else scale
    if not _snappable(scale) or not math.isfinite(value):
        return value + 0.0
    tolerance, exponent = _grid(scale)
    if exponent < 0:
        nearest = round(value * 10**-exponent) / 10**-exponent
    else:
        nearest = float(round(value / 10**exponent) * 10**exponent)
    return nearest + 0.0 if abs(value - nearest) <= tolerance else value + 0.0


def _snappable(scale: float) -> bool:
    """Whether a drawing of this size has simple numbers to snap to: not 0, finite, not near the float range's ends
    (where 10^-exponent would not be a float; no shape is drawn at 1e-290)."""
    return math.isfinite(scale) and 1e-280 < scale < 1e280


def _grid(scale: float) -> tuple[float, int]:
    """The tolerance at a scale, and the decimal exponent of the spacing of the simple numbers there."""
    return ULPS * math.ulp(scale), math.floor(math.log10(scale)) - (DIGITS - 1)
