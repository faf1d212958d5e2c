"""Each provider attempt is an X-Ray subsegment of the function's segment, sent to the Lambda's daemon."""

from __future__ import annotations

import pytest

from tests.conftest import Gateway, load_event
from tests.observability.capture import XRayDaemon

ROOT = "1-5759e988-bd862e3fe1be46a994272793"
PARENT = "53995c3f42cd8ad8"


@pytest.fixture
def traced(gateway: Gateway, xray_daemon: XRayDaemon, monkeypatch: pytest.MonkeyPatch) -> XRayDaemon:
    """The environment Lambda gives a sampled invocation with active tracing."""
    monkeypatch.setenv("AWS_XRAY_DAEMON_ADDRESS", xray_daemon.address)
    monkeypatch.setenv("_X_AMZN_TRACE_ID", f"Root={ROOT};Parent={PARENT};Sampled=1")
    monkeypatch.delenv("POWERTOOLS_TRACE_DISABLED", raising=False)
    return xray_daemon


def test_each_provider_attempt_is_a_subsegment_of_the_functions_segment(gateway: Gateway, traced: XRayDaemon) -> None:
    # Given a traced invocation whose sLM fails, so that Gemini answers
    gateway.emulator.fail("slm", "status", status=503)
    # When a prompt is routed
    answer = gateway.call("route", load_event("route"))
    documents = traced.documents()
    # Then one subsegment per attempt reaches the daemon, under the invocation's trace and segment
    assert [d["name"] for d in documents] == [a["provider"] for a in answer.body["attempts"]] == ["slm", "gemini"]
    for document, attempt in zip(documents, answer.body["attempts"], strict=True):
        assert (document["trace_id"], document["parent_id"], document["type"]) == (ROOT, PARENT, "subsegment")
        assert document["namespace"] == "remote"
        assert len(document["id"]) == 16
        assert document["annotations"] == {
            "provider": attempt["provider"],
            "model": attempt["model"],
            "outcome": attempt["outcome"],
            "request_id": answer.body["request_id"],
        }
        assert document["end_time"] - document["start_time"] == pytest.approx(attempt["latency_ms"] / 1000, abs=1e-3)
    # And the failed attempt is marked a fault with its (key-free) error, the answer is clean
    slm, gemini = documents
    assert (slm["fault"], slm["error"]) == (True, False)
    assert "503" in slm["metadata"]["gateway"]["error"]
    assert (gemini["fault"], gemini["error"], gemini["metadata"]) == (False, False, {})


def test_a_rate_limited_attempt_is_a_throttle(gateway: Gateway, traced: XRayDaemon) -> None:
    gateway.emulator.fail("slm", "status", status=429)
    gateway.call("route", load_event("route"))
    slm = traced.documents()[0]
    assert (slm["annotations"]["outcome"], slm["throttle"], slm["error"], slm["fault"]) == (
        "rate_limited",
        True,
        True,
        False,
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [("_X_AMZN_TRACE_ID", f"Root={ROOT};Parent={PARENT};Sampled=0"), ("POWERTOOLS_TRACE_DISABLED", "true")],
)
def test_nothing_is_sent_when_the_request_is_not_sampled_or_tracing_is_off(
    gateway: Gateway, traced: XRayDaemon, monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    answer = gateway.call("route", load_event("route"))
    assert answer.status == 200
    assert traced.documents() == []
