"""Throughput of the geometry engine and the local parser, and the parser's coverage of the prompt table.

In-process, pure Python; each measurement runs for about `--seconds` (default 2 s, 4 measurements).

    .venv/bin/python -m bench.geometry [--seconds 2]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from dev.lambda_runtime import use_layer

use_layer()

from gateway.geometry.engine import Constraints, draw  # noqa: E402 - the layer goes on sys.path first
from gateway.geometry.parser import parse_prompt  # noqa: E402
from gateway.geometry.spec import Spec  # noqa: E402
from tests.geometry.cases import CASES  # noqa: E402

CAP = 100_000


def rate(work: Callable[[], int], seconds: float) -> tuple[float, float]:
    """(rounds per second, units per second) of `work`, which returns the units it produced."""
    rounds = units = 0
    started = time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds or rounds == 0:
        units += work()
        rounds += 1
    return rounds / elapsed, units / elapsed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()

    specs = [Spec.model_validate(case.spec) for case in CASES]
    prompts = [case.prompt for case in CASES]
    large = [
        Spec.model_validate({"primitives": [{"kind": kind, "count": 1000, **extra}]})
        for kind, extra in [
            ("circle", {}),
            ("ellipse", {"radius_x": 5, "radius_y": 1}),
            ("polygon", {"sides": 7}),
            ("spiral", {"turns": 10}),
            ("sphere", {}),
            ("helix", {}),
            ("random_in_disc", {}),
        ]
    ]

    def engine(batch: list[Spec]) -> Callable[[], int]:
        return lambda: sum(len(draw(spec, Constraints(), CAP).points) for spec in batch)

    def parse_only() -> int:
        return sum(parse_prompt(prompt).spec is not None for prompt in prompts)

    def parse_and_draw() -> int:
        total = 0
        for prompt in prompts:
            parsed = parse_prompt(prompt)
            if parsed.spec is not None:
                total += len(draw(parsed.spec, Constraints(), CAP).points)
        return total

    print(f"prompt table: {len(prompts)} prompts; each figure is measured for {args.seconds:g} s")
    table_rounds, table_points = rate(engine(specs), args.seconds)
    print(f"engine, table specs:        {table_rounds * len(specs):10.0f} specs/s   {table_points:12.0f} points/s")
    large_rounds, large_points = rate(engine(large), args.seconds)
    print(f"engine, 1000-point shapes:  {large_rounds * len(large):10.0f} specs/s   {large_points:12.0f} points/s")
    parse_rounds, _ = rate(parse_only, args.seconds)
    print(f"parser, prompts only:       {parse_rounds * len(prompts):10.0f} prompts/s")
    both_rounds, both_points = rate(parse_and_draw, args.seconds)
    print(f"parser + engine:            {both_rounds * len(prompts):10.0f} prompts/s {both_points:12.0f} points/s")

    understood = [case for case in CASES if parse_prompt(case.prompt).understood]
    meant = [case for case in CASES if case.parser]
    share = len(understood) / len(CASES)
    print(
        f"parser coverage: {len(understood)}/{len(CASES)} prompts fully understood ({share:.0%});"
        f" {sum(c.parser for c in understood)}/{len(meant)} of those marked for it;"
        f" {sum(not c.parser for c in understood)} it should have left to a model"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
