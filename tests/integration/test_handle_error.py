"""POST /v1/handle-error: a structured analysis, with the schema asked of every provider."""

from __future__ import annotations

import json

from tests.conftest import Gateway, load_event


def test_an_error_gets_a_structured_analysis(gateway: Gateway) -> None:
    answer = gateway.call("handle_error", load_event("handle_error"))
    assert answer.status == 200
    body = answer.body
    assert body["provider"] == "gemini"
    assert body["summary"]
    assert body["likely_cause"]
    assert body["fix_steps"]
    assert 0 <= body["confidence"] <= 1
    assert "corrected_code" in body  # code was given
    # and Gemini was asked for JSON with the analysis schema
    config = gateway.emulator.calls_for("gemini")[0].body["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert "fix_steps" in json.dumps(config["responseSchema"])


def test_an_analysis_that_breaks_the_schema_falls_back_with_the_same_schema(gateway: Gateway) -> None:
    # Given Gemini answering JSON that does not match the schema
    gateway.emulator.fail("gemini", "bad_json")
    answer = gateway.call("handle_error", load_event("handle_error"))
    # Then Hugging Face is asked for the same schema and its analysis is passed on
    assert answer.status == 200
    assert [a["outcome"] for a in answer.body["attempts"]] == ["invalid_output", "ok"]
    assert answer.body["provider"] == "huggingface"
    hf_request = gateway.emulator.calls_for("huggingface")[0].body
    assert "fix_steps" in json.dumps(hf_request["response_format"])


def test_a_confidence_out_of_range_is_not_passed_on(gateway: Gateway) -> None:
    analysis = {"summary": "s", "likely_cause": "c", "fix_steps": ["a"], "confidence": 7}
    gateway.emulator.fail("*", "body", body=json.dumps(analysis))
    answer = gateway.call("handle_error", load_event("handle_error"))
    assert answer.status == 502
    assert "confidence" in answer.body["error"]["details"]["attempts"][0]["error"]


def test_without_code_there_is_no_corrected_code(gateway: Gateway) -> None:
    answer = gateway.call("handle_error", load_event("handle_error", error={"message": "Segmentation fault"}))
    assert answer.status == 200
    assert "corrected_code" not in answer.body


def test_a_missing_message_is_a_422_naming_it(gateway: Gateway) -> None:
    answer = gateway.call("handle_error", load_event("handle_error", error={"type": "KeyError"}))
    assert answer.status == 422
    assert [d["field"] for d in answer.body["error"]["details"]] == ["error.message"]
