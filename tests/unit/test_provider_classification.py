from __future__ import annotations

import email.utils
import time

import httpx
import pytest

from gateway.providers.base import Outcome, outcome_for_status, outcome_for_transport_error, parse_retry_after


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (401, Outcome.AUTH_ERROR),
        (403, Outcome.AUTH_ERROR),
        (400, Outcome.INVALID_REQUEST),
        (404, Outcome.INVALID_REQUEST),
        (408, Outcome.TIMEOUT),
        (429, Outcome.RATE_LIMITED),
        (500, Outcome.SERVER_ERROR),
        (503, Outcome.SERVER_ERROR),
    ],
)
def test_http_statuses_map_to_outcomes(status: int, outcome: Outcome) -> None:
    assert outcome_for_status(status) is outcome


def test_transport_errors_are_classified_without_importing_the_sdks() -> None:
    assert outcome_for_transport_error(httpx.ReadTimeout("slow")) is Outcome.TIMEOUT
    assert outcome_for_transport_error(httpx.ConnectError("refused")) is Outcome.CONNECTION_ERROR
    assert outcome_for_transport_error(ValueError("Expecting value")) is Outcome.MALFORMED_RESPONSE
    assert outcome_for_transport_error(KeyError("x")) is None


def test_retry_after_in_seconds_or_as_a_date() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    in_ten = email.utils.formatdate(time.time() + 10, usegmt=True)
    assert 8 <= (parse_retry_after(in_ten) or 0) <= 10
