"""Every provider under every fault, through the real handler: the outcome recorded and the client's answer.

The faulty provider is first in its chain: the sLM on /v1/route (then Gemini), Gemini on
/v1/handle-error (then Hugging Face), and Hugging Face on /v1/handle-error with Gemini unconfigured
(alone, so the client sees the failure itself).
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Any

import pytest

from dev.aws_stack import provision
from tests.conftest import EMULATOR_KEY, Gateway, load_event


@dataclass(frozen=True)
class Fault:
    kind: str
    options: dict[str, Any]
    outcome: str


FAULTS = {
    "timeout before the first byte": Fault("delay", {"delay_s": 6.0}, "timeout"),
    "connection refused": Fault("refused", {}, "connection_error"),
    "429 with Retry-After": Fault("status", {"status": 429, "retry_after": "30"}, "rate_limited"),
    "429 without Retry-After": Fault("status", {"status": 429}, "rate_limited"),
    "500": Fault("status", {"status": 500}, "server_error"),
    "503": Fault("status", {"status": 503}, "server_error"),
    "401": Fault("status", {"status": 401}, "auth_error"),
    "malformed body": Fault("malformed", {}, "malformed_response"),
    "empty candidate list": Fault("empty", {}, "empty_response"),
    "safety block": Fault("blocked", {}, "blocked"),
    "JSON that breaks the schema": Fault("bad_json", {}, "invalid_output"),
}
# The sLM is never asked for structured output (no endpoint with a schema has it in its chain).
CASES = [
    pytest.param(provider, name, id=f"{provider}: {name}")
    for provider in ("slm", "gemini", "huggingface")
    for name in FAULTS
    if not (provider == "slm" and name == "JSON that breaks the schema")
]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nothing listens once the socket is closed


@pytest.mark.parametrize(("provider", "fault_name"), CASES)
def test_fault_matrix(gateway: Gateway, monkeypatch: pytest.MonkeyPatch, provider: str, fault_name: str) -> None:
    fault = FAULTS[fault_name]
    # Given short timeouts (long enough for a healthy provider's first call on a loaded machine)
    # and the provider failing in this way
    monkeypatch.setenv("SLM_TIMEOUT_MS", "500")
    monkeypatch.setenv("PROVIDER_TIMEOUT_MS", "2000")
    if fault.kind == "refused":
        url = f"http://127.0.0.1:{_closed_port()}"
        variable = {"slm": "SLM_ENDPOINT_URL", "gemini": "GEMINI_BASE_URL", "huggingface": "HF_BASE_URL"}[provider]
        monkeypatch.setenv(variable, url + ("/generate" if provider == "slm" else ""))
    else:
        gateway.emulator.fail(provider, fault.kind, **fault.options)
    if provider == "huggingface":
        provision(secret_values={"GEMINI_API_KEY": "", "HUGGINGFACE_API_KEY": EMULATOR_KEY, "SLM_AUTH_BEARER": ""})
    function, event = (
        ("route", load_event("route")) if provider == "slm" else ("handle_error", load_event("handle_error"))
    )

    # When a request is made
    answer = gateway.call(function, event)

    # Then the provider's attempt records the fault as its own outcome
    attempts = answer.body["attempts"] if answer.status == 200 else answer.body["error"]["details"]["attempts"]
    assert attempts[0]["provider"] == provider
    assert attempts[0]["outcome"] == fault.outcome
    # and the client gets the next provider's answer, or (Hugging Face alone) a 502 listing the attempt
    if provider == "huggingface":
        assert answer.status == 502
        assert answer.body["error"]["code"] == "all_providers_failed"
        assert len(attempts) == 1
    else:
        assert answer.status == 200
        assert answer.body["provider"] == {"slm": "gemini", "gemini": "huggingface"}[provider]
        assert answer.body["fallback_used"] is True
        assert [a["outcome"] for a in attempts] == [fault.outcome, "ok"]
    if fault.kind == "delay":
        assert attempts[0]["latency_ms"] < 4500  # cut at its timeout, not after the provider's 6 s
