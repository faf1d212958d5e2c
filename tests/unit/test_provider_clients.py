"""What building a provider's client costs a cold start: one CA bundle, no call but the provider's own."""

from __future__ import annotations

import ssl
from typing import Any

import pytest


def test_a_gemini_client_loads_one_ca_bundle(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the CA bundle loads counted (each is 20-30 ms of a cold start)
    from gateway.providers.gemini import GeminiProvider

    loads: list[Any] = []
    load = ssl.SSLContext.load_verify_locations

    def counted(self: ssl.SSLContext, *args: Any, **kwargs: Any) -> None:
        loads.append(args or kwargs)
        load(self, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counted)
    # When a client is built for an HTTPS endpoint
    GeminiProvider(api_key="test-key", model="gemini-2.5-flash", base_url="https://gemini.example", timeout_ms=1000)
    # Then one TLS context serves its HTTP clients and its websockets alike
    assert len(loads) == 1


def test_hugging_face_calls_fetch_no_agent_registry_from_the_hub(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the gateway's Hugging Face provider built, and huggingface_hub's agent registry not fetched yet
    from huggingface_hub.utils import _detect_agent
    from huggingface_hub.utils._headers import build_hf_headers

    from gateway.providers.huggingface import HuggingFaceProvider

    HuggingFaceProvider(api_key="hf_test", model="m", base_url="https://hf.example", timeout_ms=1000)

    fetched: list[bool] = []
    monkeypatch.setattr(_detect_agent, "_registry", None)
    monkeypatch.setattr(_detect_agent, "_read_cached_registry", lambda path, max_age: None)
    monkeypatch.setattr(_detect_agent, "_fetch_registry", lambda: fetched.append(True))
    # When a request's headers are built, as each inference call does
    headers = build_hf_headers(token="hf_test")
    # Then no request went to the Hub for the agent registry (blocking, on every cold start in Lambda)
    assert headers["authorization"] == "Bearer hf_test"
    assert fetched == []
