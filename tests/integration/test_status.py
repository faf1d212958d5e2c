"""GET /v1/status, GET /health and the scheduled probe."""

from __future__ import annotations

import json

from tests.conftest import EMULATOR_KEY, Gateway, load_event


def test_health_is_cheap_and_touches_nothing(gateway: Gateway) -> None:
    answer = gateway.call("status", load_event("health"))
    assert answer.status == 200
    assert answer.body == {"status": "ok"}
    assert gateway.emulator.calls == []


def test_status_describes_each_provider_without_its_key(gateway: Gateway) -> None:
    answer = gateway.call("status", load_event("status"))
    assert answer.status == 200
    providers = {p["name"]: p for p in answer.body["providers"]}
    assert set(providers) == {"slm", "gemini", "huggingface"}
    assert all(p["configured"] for p in providers.values())
    assert providers["gemini"]["model"] == "gemini-2.5-flash"
    assert providers["gemini"]["base_url_host"] == "127.0.0.1"
    assert providers["gemini"]["last_probe"] is None
    assert EMULATOR_KEY not in json.dumps(answer.raw)


def test_the_schedule_probes_every_provider_and_status_shows_it(gateway: Gateway) -> None:
    # Given Hugging Face down
    gateway.emulator.fail("huggingface", "status", status=503)
    # When the schedule event fires
    result = gateway.invoke("status", load_event("schedule_status"))
    # Then each configured provider is probed once and the outcome recorded
    outcomes = {p["provider"]: p["outcome"] for p in result["probed"]}
    assert outcomes == {"slm": "ok", "gemini": "ok", "huggingface": "server_error"}
    # and GET /v1/status (another invocation, as another instance would) shows the recorded probes
    providers = {p["name"]: p for p in gateway.call("status", load_event("status")).body["providers"]}
    assert providers["huggingface"]["last_probe"]["outcome"] == "server_error"
    assert providers["gemini"]["last_probe"]["outcome"] == "ok"
    assert providers["gemini"]["last_probe"]["latency_ms"] >= 0


def test_an_unconfigured_provider_is_reported_and_not_probed(gateway: Gateway, monkeypatch) -> None:
    from dev.aws_stack import provision

    provision(secret_values={"GEMINI_API_KEY": EMULATOR_KEY, "HUGGINGFACE_API_KEY": "", "SLM_AUTH_BEARER": ""})
    monkeypatch.setenv("SLM_MODE", "local")
    result = gateway.invoke("status", load_event("schedule_status"))
    assert [p["provider"] for p in result["probed"]] == ["gemini"]
    providers = {p["name"]: p for p in gateway.call("status", load_event("status")).body["providers"]}
    assert providers["huggingface"]["configured"] is False
    assert providers["slm"]["configured"] is False
