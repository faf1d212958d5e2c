"""Provider keys come only from Secrets Manager in AWS, are cached for SECRET_MAX_AGE_SECONDS, follow a
rotation without a redeploy, and never appear in a response or a log line."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest

from dev.lambda_runtime import api_event
from dev.sqs_poller import SqsPoller
from gateway.observability import logger
from tests.conftest import Gateway, load_event
from tests.security.conftest import Capture

GEMINI_ANSWER = {
    "candidates": [{"content": {"role": "model", "parts": [{"text": "Serverless scales to zero."}]}}],
    "usageMetadata": {"promptTokenCount": 12, "candidatesTokenCount": 5, "totalTokenCount": 17},
}


class KeyRecordingGemini:
    """A Gemini endpoint that answers every call and remembers the API key each one carried."""

    def __init__(self) -> None:
        keys: list[str | None] = []
        self.keys = keys

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", 0)))
                keys.append(self.headers.get("x-goog-api-key"))
                body = json.dumps(GEMINI_ANSWER).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def gemini(gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> Iterator[KeyRecordingGemini]:
    """The gateway as deployed (aws mode), Gemini first (no sLM), no response cache, Gemini recording keys."""
    server = KeyRecordingGemini()
    monkeypatch.setenv("GATEWAY_MODE", "aws")
    monkeypatch.setenv("GEMINI_BASE_URL", server.url)
    monkeypatch.setenv("SLM_MODE", "local")
    monkeypatch.setenv("CACHE_TTL_SECONDS", "0")
    yield server
    server.close()


def _set_secret(gateway: Gateway, **keys: str) -> None:
    value = {"GEMINI_API_KEY": "", "HUGGINGFACE_API_KEY": "", "SLM_AUTH_BEARER": "", **keys}
    boto3.client("secretsmanager").put_secret_value(
        SecretId=gateway.resources.secret_name, SecretString=json.dumps(value)
    )


def test_a_rotated_key_is_used_once_the_cache_expires_without_a_redeploy(
    gateway: Gateway, gemini: KeyRecordingGemini, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a secret cached for 1 s, and a Gemini key in the environment that AWS mode must ignore
    monkeypatch.setenv("SECRET_MAX_AGE_SECONDS", "1")
    monkeypatch.setenv("GEMINI_API_KEY", "key-from-the-environment")
    _set_secret(gateway, GEMINI_API_KEY="key-before-rotation")
    first = gateway.call("route", load_event("route"))
    read_at = time.monotonic()
    # When the secret is rotated in Secrets Manager
    _set_secret(gateway, GEMINI_API_KEY="key-after-rotation")
    # Then requests within the cache's lifetime still use the old key (no read per request)
    before = gateway.call("route", load_event("route"))
    assert time.monotonic() - read_at < 1, "the machine is too slow for this test's 1 s cache"
    # And once it expires, the same running instance uses the new key
    time.sleep(max(0.0, 1.05 - (time.monotonic() - read_at)))
    after = gateway.call("route", load_event("route"))
    assert [a.status for a in (first, before, after)] == [200, 200, 200]
    assert {a.body["provider"] for a in (first, before, after)} == {"gemini"}
    assert gemini.keys == ["key-before-rotation", "key-before-rotation", "key-after-rotation"]


def test_in_aws_mode_environment_keys_are_ignored(
    gateway: Gateway, gemini: KeyRecordingGemini, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given no Gemini key in the secret, but one in the environment
    _set_secret(gateway, HUGGINGFACE_API_KEY="hf-key")
    monkeypatch.setenv("GEMINI_API_KEY", "key-from-the-environment")
    # When a prompt is routed
    answer = gateway.call("route", load_event("route"))
    # Then Gemini counts as not configured: the environment's key was not used
    assert answer.body["provider"] == "huggingface"
    assert gemini.keys == []


KEYS = {
    "GEMINI_API_KEY": "AIzaSyD-gemini-secret-value-0001",
    "HUGGINGFACE_API_KEY": "hf_secretvalue0002secretvalue",
    "SLM_AUTH_BEARER": "slm-bearer-secret-0003",
}


def test_no_key_appears_in_any_log_line_or_response_of_a_full_run(
    gateway: Gateway, captured: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given real-looking keys in the secret, the gateway's own logger at DEBUG, and providers failing
    # in several ways (auth errors, server errors, malformed answers) before one answers
    _set_secret(gateway, **KEYS)
    logger.setLevel("DEBUG")
    gateway.emulator.fail("slm", "status", status=401)
    gateway.emulator.fail("gemini", "status", status=403)
    gateway.emulator.fail("huggingface", "malformed", times=1)
    try:
        # When every endpoint and every event source is used
        answers = [
            gateway.call("route", load_event("route")),  # sLM 401, Gemini 403, HF malformed: 502
            gateway.call("route", load_event("route")),  # the breaker's view, HF answers
            gateway.call("route", load_event("route_job_post")),
            gateway.call("generate_points", load_event("generate_points")),
            gateway.post(
                "generate_points", "/v1/generate-points", {"prompt": "a smiley face", "context": {"count": 20}}
            ),
            gateway.call("handle_error", load_event("handle_error")),
            gateway.post(  # a client pasting the gateway's own key into an error report
                "handle_error",
                "/v1/handle-error",
                {"error": {"message": f"403 from Gemini with key {KEYS['GEMINI_API_KEY']}"}},
            ),
            gateway.call("status", load_event("status")),
            gateway.call("status", load_event("health")),
            gateway.post("status", "/v1/admin/circuits/reset", {"provider": "gemini"}),
        ]
        job = answers[2].body["job_id"]
        answers.append(gateway.call("route", api_event("GET", f"/v1/jobs/{job}", resource="/v1/jobs/{job_id}")))
        SqsPoller(gateway.resources.route_jobs_queue_url, "route").drain()
        others = [
            gateway.invoke("route", load_event("sqs_route_jobs")),
            gateway.invoke("status", load_event("schedule_status")),
            gateway.invoke("training_consumer", load_event("sqs_training_examples")),
        ]
    finally:
        logger.setLevel("INFO")
    output = captured.read()
    # Then the run did reach the providers with the keys, and wrote logs and metrics
    assert {a.status for a in answers} >= {200, 202, 502}
    assert any(call.authenticated for call in gateway.emulator.calls_for("gemini"))
    assert output.messages("provider attempt failed")
    assert output.records("ProviderAttempts")
    # And no key is in any response, log line (ours or a library's), metric record, print, or prompt sent
    # to a provider (the client's pasted key was redacted before the model saw it)
    prompts = json.dumps([call.body for call in gateway.emulator.calls])
    assert "[REDACTED:" in prompts
    everything = json.dumps([a.raw for a in answers]) + json.dumps(others) + output.text + prompts
    for name, secret in KEYS.items():
        assert secret not in everything, name
