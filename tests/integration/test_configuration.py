"""A broken deployment is a clear error naming what is missing, never a traceback or a leaked key."""

from __future__ import annotations

import boto3
import pytest

from tests.conftest import Gateway, load_event


def _set_secret(gateway: Gateway, value: str) -> None:
    boto3.client("secretsmanager").put_secret_value(SecretId=gateway.resources.secret_name, SecretString=value)


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ("not json", "is not valid JSON"),
        ('["a list"]', "must be a JSON object"),
        ('{"GEMINI_API_KEY": "k"}', "lacks the keys: HUGGINGFACE_API_KEY"),
        ('{"GEMINI_API_KEY": 5, "HUGGINGFACE_API_KEY": ""}', "non-string values for: GEMINI_API_KEY"),
    ],
)
def test_a_malformed_secret_is_a_configuration_error(gateway: Gateway, secret: str, message: str) -> None:
    _set_secret(gateway, secret)
    answer = gateway.call("route", load_event("route"))
    assert answer.status == 500
    assert answer.body["error"]["code"] == "configuration_error"
    assert message in answer.body["error"]["message"]
    assert gateway.resources.secret_name in answer.body["error"]["message"]
    assert "Traceback" not in answer.raw["body"]


def test_a_missing_secret_names_it(gateway: Gateway) -> None:
    boto3.client("secretsmanager").delete_secret(
        SecretId=gateway.resources.secret_name, ForceDeleteWithoutRecovery=True
    )
    answer = gateway.call("status", load_event("status"))
    assert answer.status == 500
    assert "could not be read" in answer.body["error"]["message"]


def test_aws_mode_without_a_secret_name_says_so(gateway: Gateway, monkeypatch) -> None:
    monkeypatch.setenv("GATEWAY_MODE", "aws")
    monkeypatch.delenv("PROVIDER_SECRET_NAME")
    answer = gateway.call("handle_error", load_event("handle_error"))
    assert answer.status == 500
    assert "PROVIDER_SECRET_NAME is not set" in answer.body["error"]["message"]


def test_an_invalid_setting_names_the_variable(gateway: Gateway, monkeypatch) -> None:
    monkeypatch.setenv("SLM_TIMEOUT_MS", "soon")
    answer = gateway.call("route", load_event("route"))
    assert answer.status == 500
    assert "SLM_TIMEOUT_MS" in answer.body["error"]["message"]


def test_in_local_mode_environment_keys_override_the_secret(gateway: Gateway, monkeypatch) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", "from-the-environment")
    gateway.emulator.fail("slm", "status", status=503)
    answer = gateway.call("route", load_event("route"))
    assert answer.body["provider"] == "gemini"
    assert gateway.emulator.calls_for("gemini")[0].authenticated


# The leak check (every log line and response of a full run) is tests/security/test_secrets.py.
