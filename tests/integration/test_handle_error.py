"""POST /v1/handle-error through the real handler: redaction, parsing, the cache, the answer's language."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from tests.conftest import Answer, Gateway, load_event
from tests.error_analysis.secrets import ANTHROPIC, AWS_ID, AWS_SECRET, GITHUB, GOOGLE, HUGGINGFACE, JWT, OPENAI, STRIPE

PATH = "/v1/handle-error"
FLASK_TRACE = """Traceback (most recent call last):
  File "/usr/local/lib/python3.12/site-packages/flask/app.py", line 1463, in wsgi_app
    response = self.full_dispatch_request()
  File "/app/orders/api.py", line 27, in create_order
    quantity = payload["quantity"]
KeyError: 'quantity'"""


def _post(gateway: Gateway, body: dict[str, Any]) -> Answer:
    return gateway.post("handle_error", PATH, body)


def _sent_to_providers(gateway: Gateway) -> str:
    """Everything every provider received, as one text."""
    return "\n".join(json.dumps(call.body, ensure_ascii=False) for call in gateway.emulator.calls)


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
    assert body["cached"] is False
    assert body["redactions"] == {"count": 0, "kinds": {}}
    assert (body["answer_language"], body["answer_language_source"]) == ("en", "default")
    # and Gemini was asked for JSON with the analysis schema
    config = gateway.emulator.calls_for("gemini")[0].body["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert "fix_steps" in json.dumps(config["responseSchema"])


def test_the_parsed_trace_is_in_the_prompt_and_in_the_response(gateway: Gateway) -> None:
    # Given a Flask trace whose innermost user frame is below a library frame
    answer = _post(gateway, {"error": {"message": "KeyError: 'quantity'", "stack": FLASK_TRACE}})
    # Then the response says what was understood
    assert answer.status == 200
    assert answer.body["parsed"] == {
        "language": "python",
        "exception_type": "KeyError",
        "message": "'quantity'",
        "frame": {"file": "/app/orders/api.py", "line": 27, "function": "create_order"},
    }
    assert len(answer.body["fingerprint"]) == 32
    # and the model was told the same
    prompt = _sent_to_providers(gateway)
    assert "Exception type: KeyError" in prompt
    assert "Innermost frame of the user's own code: /app/orders/api.py, line 27, in create_order" in prompt


def test_no_redacted_value_reaches_a_provider_a_log_line_or_the_response(
    gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    # Given secrets and personal data in the message, the stack, the code and the context
    secrets = [OPENAI, ANTHROPIC, GOOGLE, HUGGINGFACE, GITHUB, STRIPE, AWS_ID, AWS_SECRET, JWT]
    secrets += ["pg-Pa55word!", "ana.lima@example.com.br", "hunter2-longer", "rosa"]
    body = {
        "error": {
            "message": f"AuthenticationError: invalid key {OPENAI} for ana.lima@example.com.br",
            "type": "AuthenticationError",
            "stack": (
                "Traceback (most recent call last):\n"
                '  File "/home/rosa/billing/client.py", line 12, in call\n'
                f"    headers={{'Authorization': 'Bearer {JWT}'}}\n"
                f"AuthenticationError: invalid key {OPENAI}"
            ),
            "code": (
                f'ANTHROPIC = "{ANTHROPIC}"\nGOOGLE = "{GOOGLE}"\nHF = "{HUGGINGFACE}"\nGH = "{GITHUB}"\n'
                f'stripe.api_key = "{STRIPE}"\n'
                f"boto3.client('s3', aws_access_key_id='{AWS_ID}', aws_secret_access_key='{AWS_SECRET}')\n"
                "DATABASE_URL = 'postgresql://billing:pg-Pa55word!@db:5432/billing'\n"
            ),
            "language": "python",
        },
        "context": {"framework": "flask", "db_password": "hunter2-longer"},
    }
    # And Gemini failing, so that both providers are asked
    gateway.emulator.fail("gemini", "bad_json")
    caplog.set_level(logging.DEBUG)
    answer = _post(gateway, body)
    # Then both providers answered or were asked, and not one of the values reached either of them
    assert answer.status == 200
    assert {call.provider for call in gateway.emulator.calls} == {"gemini", "huggingface"}
    sent = _sent_to_providers(gateway)
    logged = "\n".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)
    returned = json.dumps(answer.body)
    for secret in secrets:
        assert secret not in sent
        assert secret not in logged
        assert secret not in returned
    # but typed placeholders did, with an instruction not to guess them
    assert "[REDACTED:openai_key]" in sent
    assert "[REDACTED:aws_secret_key]" in sent
    assert "do not guess or invent them" in sent
    # And the response says how many items of each kind were redacted
    assert answer.body["redactions"] == {
        "count": 14,
        "kinds": {
            "anthropic_key": 1,
            "aws_access_key": 1,
            "aws_secret_key": 1,
            "email": 1,
            "github_token": 1,
            "google_api_key": 1,
            "huggingface_token": 1,
            "jwt": 1,
            "openai_key": 2,
            "password": 2,
            "stripe_key": 1,
            "username": 1,
        },
    }
    assert answer.body["parsed"]["frame"]["file"] == "/home/[REDACTED:username]/billing/client.py"


def test_an_identical_error_with_other_numbers_is_answered_from_the_cache(gateway: Gateway) -> None:
    def timeout(request_id: int, seconds: float) -> dict[str, Any]:
        message = f"TimeoutError: request {request_id} timed out after {seconds} s"
        stack = FLASK_TRACE.replace("KeyError: 'quantity'", message)
        return {"error": {"message": message, "stack": stack}}

    # Given an error analysed once
    first = _post(gateway, timeout(8812, 30.5))
    calls_after_first = len(gateway.emulator.calls)
    # When the same error comes again with other numbers
    second = _post(gateway, timeout(17, 2.0))
    # Then it is answered from the cache, at no cost and without a provider call
    assert first.status == second.status == 200
    assert (first.body["cached"], second.body["cached"]) == (False, True)
    assert len(gateway.emulator.calls) == calls_after_first == 1
    assert second.body["fingerprint"] == first.body["fingerprint"]
    assert second.body["usage"] == {"input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0}
    assert second.body["attempts"] == []
    analysis = ("summary", "likely_cause", "fix_steps", "confidence")
    assert [second.body[k] for k in analysis] == [first.body[k] for k in analysis]
    assert second.body["request_id"] != first.body["request_id"]
    # But asked in another language, it is a new answer
    third = _post(gateway, {**timeout(17, 2.0), "language": "fr"})
    assert third.body["cached"] is False
    assert len(gateway.emulator.calls) == 2


def test_the_requested_answer_language_is_asked_for_in_the_prompt(gateway: Gateway) -> None:
    # Given a client asking for Japanese
    answer = _post(gateway, {"error": {"message": "KeyError: 'id'"}, "language": "ja"})
    # Then the model is asked to write in Japanese and the response says so
    assert answer.status == 200
    assert (answer.body["answer_language"], answer.body["answer_language_source"]) == ("ja", "requested")
    call = gateway.emulator.calls_for("gemini")[0].body
    assert "Japanese (ja)" in json.dumps(call["contents"], ensure_ascii=False)
    assert "Japanese (ja)" in json.dumps(call["systemInstruction"], ensure_ascii=False)


def test_without_a_requested_language_the_errors_own_is_used(gateway: Gateway) -> None:
    # Given a PostgreSQL error in Spanish and no language asked for
    answer = _post(gateway, {"error": {"message": "ERROR: la relación «users» no existe en la posición 15"}})
    # Then the analysis is asked for, and said to be, in Spanish
    assert (answer.body["answer_language"], answer.body["answer_language_source"]) == ("es", "detected")
    assert "Spanish (es)" in _sent_to_providers(gateway)


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
    # Given a model that writes corrected code anyway
    analysis = {"summary": "s", "likely_cause": "c", "fix_steps": ["a"], "corrected_code": "x = 1", "confidence": 0.5}
    gateway.emulator.fail("gemini", "body", body=json.dumps(analysis))
    answer = gateway.call("handle_error", load_event("handle_error", error={"message": "Segmentation fault"}))
    assert answer.status == 200
    assert "corrected_code" not in answer.body


def test_a_missing_message_is_a_422_naming_it(gateway: Gateway) -> None:
    answer = gateway.call("handle_error", load_event("handle_error", error={"type": "KeyError"}))
    assert answer.status == 422
    assert [d["field"] for d in answer.body["error"]["details"]] == ["error.message"]
