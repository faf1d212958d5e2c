"""Schemathesis checks of the gateway's own, loaded by `st run` through the `hooks` setting of schemathesis.toml.

`error_shape`: every answer with a 4xx or 5xx status is JSON `{"error": {"code", "message", "request_id", ...}}`
with non-empty strings (the README's promise), whatever the input, and carries no stack trace.
"""

from __future__ import annotations

from typing import Any

import schemathesis

from bench.load import error_shape_problem


@schemathesis.check
def error_shape(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every 4xx/5xx answer is in the gateway's error shape, with no stack trace."""
    problem = error_shape_problem(int(response.status_code), str(response.text))
    if problem:
        raise AssertionError(problem)
    return None
