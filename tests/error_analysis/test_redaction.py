"""Secrets and personal data are replaced by typed placeholders; ordinary text of error reports is not."""

from __future__ import annotations

import pytest

from gateway.analysis.redaction import Redactor, redact
from tests.error_analysis.secrets import AWS_SECRET, CASES, CLEAN, GOOGLE, JWT, Case


def test_the_table_is_large_enough() -> None:
    assert len(CASES) >= 40
    assert sum(sum(case.kinds.values()) for case in CASES) >= 50


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_secrets_are_replaced_by_typed_placeholders_and_the_rest_survives(case: Case) -> None:
    # Given an error report with secrets or personal data in it
    # When it is redacted
    text, redactions = redact(case.text)
    # Then no secret is left, each is counted by kind, and the text around them is untouched
    for secret in case.secrets:
        assert secret not in text
    assert dict(redactions.kinds) == case.kinds
    assert redactions.count == sum(case.kinds.values())
    for kind in case.kinds:
        assert f"[REDACTED:{kind}]" in text
    for survivor in case.survives:
        assert survivor in text


@pytest.mark.parametrize("text", CLEAN)
def test_ordinary_text_is_not_redacted(text: str) -> None:
    # Given text that only looks a little like a secret (versions, hashes, code that reads a secret)
    redacted, redactions = redact(text)
    # Then it comes through as it was
    assert (redacted, redactions.count) == (text, 0)


def test_redacting_twice_changes_nothing_more() -> None:
    once, _ = redact(CASES[0].text)
    twice, redactions = redact(once)
    assert (twice, redactions.count) == (once, 0)


def test_the_gateways_own_keys_are_redacted_whatever_their_shape() -> None:
    # Given a gateway key with no well-known shape, pasted by a user into an error
    text, redactions = redact("upstream said: invalid key local-emulator-key", known_secrets=["local-emulator-key"])
    assert text == "upstream said: invalid key [REDACTED:gateway_key]"
    assert redactions.as_dict() == {"count": 1, "kinds": {"gateway_key": 1}}


def test_structured_context_is_redacted_by_key_and_by_value() -> None:
    # Given a context object with a password field, a nested token and a URL with credentials
    redactor = Redactor()
    context = {
        "framework": "django 4.2",
        "db": {"password": "hunter2", "url": "postgres://app:pw12345@db/shop", "port": 5432},
        "headers": [f"Authorization: Bearer {JWT}", "Accept: application/json"],
        "aws": {"secret_access_key": AWS_SECRET},
        "debug": True,
        "api_key": GOOGLE,
    }
    # When it is redacted
    out = redactor.data(context)
    # Then secret-named fields are replaced whole, values are scanned, and the rest is kept
    assert out == {
        "framework": "django 4.2",
        "db": {"password": "[REDACTED:password]", "url": "postgres://app:[REDACTED:password]@db/shop", "port": 5432},
        "headers": ["Authorization: Bearer [REDACTED:jwt]", "Accept: application/json"],
        "aws": {"secret_access_key": "[REDACTED:secret]"},
        "debug": True,
        "api_key": "[REDACTED:secret]",
    }
    assert redactor.redactions.count == 5


def test_counts_add_up_across_the_fields_of_one_request() -> None:
    redactor = Redactor()
    redactor.text("mail a@example.com")
    redactor.optional(None)
    redactor.text(f"key {GOOGLE} and b@example.org")
    assert redactor.redactions.as_dict() == {"count": 3, "kinds": {"email": 2, "google_api_key": 1}}
