"""The peer for `bench.perf`: LiteLLM in its own virtual environment (`bench/.venv-litellm`).

Run by path with that environment's interpreter: `bench/.venv-litellm/bin/python bench/_perf/litellm_child.py
SPEC OUT`. Standard library only apart from litellm itself, which is imported dynamically (the project's own
environment does not have it). Every call uses `mock_response`, so nothing leaves the machine; the parent also
sets `LITELLM_LOCAL_MODEL_COST_MAP` so that the import does not fetch the price list.

cold: `import litellm`, build a `litellm.Router` and make its first `completion` call; report the time from the
      parent's spawn (`BENCH_SPAWNED_AT`, CLOCK_MONOTONIC) to the answer, and the peak RSS.
warm: time `requests` mocked `Router.completion` calls after a warm-up.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(1, str(REPO_ROOT))

from bench._perf.process_figures import ms, peak_rss_mib  # noqa: E402 - after the path

MODEL_LIST = [
    {
        "model_name": "bench",
        "litellm_params": {"model": "openai/gpt-4o-mini", "api_key": "sk-bench-not-a-key"},
    }
]
MESSAGES = [{"role": "user", "content": "Explain what a Python generator is in two sentences."}]


def _call(router: Any) -> Any:
    return router.completion(model="bench", messages=MESSAGES, mock_response="A generator yields values lazily.")


def cold() -> dict[str, Any]:
    spawned = float(os.environ["BENCH_SPAWNED_AT"])
    main_started = time.monotonic()
    litellm = importlib.import_module("litellm")
    imported = time.monotonic()
    router = litellm.Router(model_list=MODEL_LIST)
    answer = _call(router)
    answered = time.monotonic()
    return {
        "status": 200 if answer.choices[0].message.content else 0,
        "total_ms": ms(answered - spawned),
        "startup_ms": ms(main_started - spawned),
        "import_ms": ms(imported - main_started),
        "first_request_ms": ms(answered - imported),
        "peak_rss_mib": peak_rss_mib(),
        "version": str(getattr(litellm, "__version__", "") or _version()),
    }


def _version() -> str:
    from importlib.metadata import version

    return version("litellm")


def warm(spec: dict[str, Any]) -> dict[str, Any]:
    litellm = importlib.import_module("litellm")
    router = litellm.Router(model_list=MODEL_LIST)
    for _ in range(int(spec.get("warmup", 20))):
        _call(router)
    times = []
    for _ in range(int(spec["requests"])):
        started = time.perf_counter()
        _call(router)
        times.append(ms(time.perf_counter() - started))
    return {"router_ms": times, "peak_rss_mib": peak_rss_mib()}


def main() -> int:
    spec: dict[str, Any] = json.loads(sys.argv[1])
    result = cold() if spec["mode"] == "cold" else warm(spec)
    Path(sys.argv[2]).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
