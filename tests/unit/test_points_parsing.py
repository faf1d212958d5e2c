from __future__ import annotations

import pytest

from gateway.chain import OutputRejectedError
from gateway.points import PointsContext, parse_points, points_schema


def test_points_are_returned_as_coordinates() -> None:
    points = parse_points('{"points": [{"x": 1, "y": 2.5}, {"x": -3, "y": 0}]}', PointsContext(count=2), cap=10)
    assert points == [[1.0, 2.5], [-3.0, 0.0]]


def test_an_extra_z_in_two_dimensions_is_dropped_and_a_missing_one_in_three_rejected() -> None:
    assert parse_points('{"points": [{"x": 1, "y": 2, "z": 9}]}', PointsContext(), cap=10) == [[1.0, 2.0]]
    with pytest.raises(OutputRejectedError, match="no finite z"):
        parse_points('{"points": [{"x": 1, "y": 2}]}', PointsContext(dimensions=3), cap=10)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"points": []}', "no points list"),
        ('{"points": [{"x": true, "y": 1}]}', "no finite x"),
        ('{"points": [{"x": "1", "y": 1}]}', "no finite x"),
        ('{"points": [{"x": 1e400, "y": 1}]}', "no finite x"),
        ('{"points": [[1, 2]]}', "not an object"),
        ("[1, 2]", "no points list"),
    ],
)
def test_anything_not_exactly_as_asked_is_rejected(text: str, reason: str) -> None:
    with pytest.raises(OutputRejectedError, match=reason):
        parse_points(text, PointsContext(), cap=10)


def test_the_size_cap_holds_even_when_no_count_was_asked() -> None:
    text = '{"points": [' + ",".join(['{"x": 0, "y": 0}'] * 11) + "]}"
    with pytest.raises(OutputRejectedError, match="over the cap of 10"):
        parse_points(text, PointsContext(), cap=10)


def test_the_schema_asks_for_each_axis() -> None:
    assert points_schema(3)["properties"]["points"]["items"]["required"] == ["x", "y", "z"]
