"""A smaller run of bench/load.py: concurrent clients while the emulator fails a share of provider calls.

No request may be lost (every one is answered, or gets an error in the error shape), and the only 5xx allowed are
the chain's documented 502/503/504.
"""

from __future__ import annotations

import pytest

from bench.load import CHAIN_STATUSES, run_load

pytestmark = pytest.mark.e2e


def test_no_request_is_lost_while_the_slm_and_gemini_fail_a_fifth_of_their_calls() -> None:
    report = run_load(clients=8, requests=40, fault_share=0.2, max_seconds=30)
    text = "\n".join(report.lines())
    assert report.sent >= 40, text
    assert report.lost == 0, text
    assert not report.undocumented_5xx, text
    assert report.answered > 0, text
    assert sum(failed for _, failed in report.provider_calls.values()) > 0, f"no fault was served\n{text}"
    assert {"POST /v1/route", "POST /v1/generate-points", "POST /v1/handle-error", "GET /v1/status"} <= set(
        report.by_endpoint
    ), text


def test_when_every_provider_fails_the_errors_are_the_documented_ones() -> None:
    report = run_load(clients=6, requests=20, fault_share=1.0, max_seconds=30, faulted=("slm", "gemini", "huggingface"))
    text = "\n".join(report.lines())
    assert report.lost == 0, text
    server_errors = {status for status in report.errors if status >= 500}
    assert server_errors, f"every provider failing must fail the requests that need one\n{text}"
    assert server_errors <= CHAIN_STATUSES, text
