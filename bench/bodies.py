"""What reading a request body strictly costs (`gateway.http.body.read_json`: content type, UTF-8, repeated keys,
depth, control characters) beside the plain `json.loads` FastAPI would otherwise do, for bodies of typical
shapes and sizes. In-process; each figure is the best of 7 rounds.

    .venv/bin/python -m bench.bodies
"""

from __future__ import annotations

import functools
import json
import timeit
from collections.abc import Callable

from dev.lambda_runtime import use_layer

use_layer()

from gateway.http.body import read_json  # noqa: E402 - the layer goes on sys.path first

BODIES = {
    "points, point objects (120 B)": {
        "prompt": "Generate 10 points in a circle",
        "context": {"radius": 100, "center": {"x": 0, "y": 0}},
    },
    "route prompt (2 KB)": {"user_id": "u", "prompt": "Explain generators. " * 100},
    "route prompt, escapes (2 KB)": {"user_id": "u", "prompt": "Expliquez les générateurs.\n " * 80},
    "error with a stack (20 KB)": {"error": {"message": "KeyError", "stack": '  File "app.py", line 3, in f\n' * 600}},
    "200 chat messages (24 KB)": {"messages": [{"role": "user", "content": "hello there " * 8} for _ in range(200)]},
    "8,000 nested lists (64 KB)": {"prompt": "x", "context": [[i, [i]] for i in range(4000)]},
}


def best_us(work: Callable[[], object], number: int) -> float:
    return min(timeit.repeat(work, number=number, repeat=7)) / number * 1e6


def main() -> int:
    print(f"{'body':32s} {'json.loads':>12s} {'read_json':>12s}  ratio")
    for name, value in BODIES.items():
        raw = json.dumps(value).encode()
        number = max(10, 200_000 // len(raw))
        plain = best_us(functools.partial(json.loads, raw), number)
        strict = best_us(functools.partial(read_json, raw, "application/json"), number)
        print(f"{name:32s} {plain:9.1f} us {strict:9.1f} us  {strict / plain:4.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
