"""Inputs an attacker controls must not cost seconds of CPU, crash a request, or slip data past redaction."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from gateway.analysis.redaction import Redactor
from gateway.analysis.stacktraces import parse_error
from gateway.geometry.engine import cos_sin
from gateway.geometry.parser import parse_prompt
from gateway.routing.complexity import score_complexity

# Each took 5 to 22 s before its pattern was fixed; linear time is a few milliseconds.
HOSTILE: list[tuple[str, Callable[[], object]]] = [
    ("a private-key header then 45,000 spaces", lambda: Redactor().text("-----BEGIN PRIVATE KEY-----" + " " * 45000)),
    ("a prompt of 32,000 blank lines", lambda: score_complexity("a" + "\n" * 31999, max_output_tokens=100,
                                                                  language="en", threshold=0.5)),
    ("a stack of blank lines then spaces", lambda: parse_error("x" + "\n" * 16000 + " " * 32000)),
    ("a points prompt of 4,000 digits", lambda: parse_prompt("1" * 4000)),
]  # fmt: skip


@pytest.mark.parametrize(("what", "work"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_input_is_handled_in_linear_time(what: str, work: Callable[[], object]) -> None:
    started = time.perf_counter()
    work()
    assert time.perf_counter() - started < 1.5, what


def test_a_tiny_negative_angle_is_not_a_crash() -> None:
    # (-1e-14) % 360 is exactly 360.0 in floating point
    assert cos_sin(-1e-14) == (1.0, 0.0)
    assert cos_sin(-360.0) == (1.0, 0.0)


def test_everything_under_a_secret_named_key_is_redacted_and_keys_too() -> None:
    redactor = Redactor()
    data = {
        "password": ["hunter2hunter2"],
        "db_password": {"value": "s3cr3tpass"},
        "jane.doe@example.com": "owner",
        "debug": True,
    }
    redacted = redactor.data(data)
    text = repr(redacted)
    for leaked in ("hunter2hunter2", "s3cr3tpass", "jane.doe@example.com"):
        assert leaked not in text
    assert redacted["debug"] is True
    assert redactor.redactions.as_dict()["count"] == 3
