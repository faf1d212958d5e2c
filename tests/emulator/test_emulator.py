"""The provider emulator, driven by the real google-genai, huggingface_hub and httpx clients."""

from __future__ import annotations

import asyncio
import json
import math
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, Literal

import httpx
import httpx2
import jsonschema  # type: ignore[import-untyped]  # via moto/cfn-lint; no stubs installed
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types
from huggingface_hub import AsyncInferenceClient
from huggingface_hub.errors import HfHubHTTPError
from pydantic import BaseModel, Field

from dev.emulator import ProviderEmulator, generate_from_schema

ROOT = Path(__file__).resolve().parents[2]

GEMINI_KEY = "gemini-secret-key-123"
HF_KEY = "hf_secret_token_456"
GEMINI_MODEL = "gemini-2.5-flash"
HF_MODEL = "meta-llama/Llama-3.1-8B-Instruct"

RICH_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "title": {"type": "string", "minLength": 12},
        "kind": {"type": "string", "enum": ["circle", "line"]},
        "score": {"type": "number", "minimum": 2, "maximum": 4},
        "count": {"type": "integer", "minimum": 10},
        "ok": {"type": "boolean"},
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 3},
        "note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "inner": {
            "type": "object",
            "properties": {"a": {"type": "integer", "maximum": -3}},
            "required": ["a"],
        },
    },
    "required": ["title", "kind", "score", "count", "ok", "tags", "inner"],
}

POINTS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "points": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "x": {"type": "number"},
                    "y": {"type": "number"},
                    "z": {"type": "number"},
                },
                "required": ["x", "y"],
            },
        },
        "shape": {"type": "string"},
    },
    "required": ["points", "shape"],
}


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def emulator() -> Iterator[ProviderEmulator]:
    with ProviderEmulator() as emu:
        yield emu


def run(coro_fn: Callable[[], Awaitable[Any]]) -> Any:
    async def _main() -> Any:
        return await coro_fn()

    return asyncio.run(_main())


async def gemini_generate(
    emu: ProviderEmulator,
    prompt: str = "hello there",
    *,
    model: str = GEMINI_MODEL,
    config: types.GenerateContentConfig | None = None,
) -> types.GenerateContentResponse:
    # The client is held for the whole call: a collected client closes its transport.
    client = genai.Client(
        api_key=GEMINI_KEY,
        http_options=types.HttpOptions(base_url=emu.url, api_version="v1beta", timeout=5000),
    )
    try:
        return await client.aio.models.generate_content(model=model, contents=prompt, config=config)
    finally:
        await client.aio.aclose()


async def hf_chat(
    emu: ProviderEmulator,
    prompt: str = "hello there",
    *,
    model: str = HF_MODEL,
    response_format: Any = None,
    base_url: str | None = None,
) -> Any:
    async with AsyncInferenceClient(base_url=base_url or emu.url, api_key=HF_KEY, timeout=5) as client:
        return await client.chat_completion(
            [{"role": "system", "content": "be brief"}, {"role": "user", "content": prompt}],
            model=model,
            max_tokens=64,
            temperature=0.2,
            response_format=response_format,
        )


async def slm_generate(emu: ProviderEmulator, prompt: str = "hello there") -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=emu.url, timeout=5) as client:
        response = await client.post("/generate", json={"prompt": prompt, "max_new_tokens": 32})
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data


def hf_schema_format(schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "json_schema", "json_schema": {"name": "out", "schema": schema, "strict": True}}


Provider = Literal["gemini", "huggingface", "slm"]


def call_provider(emu: ProviderEmulator, provider: Provider, prompt: str = "hello") -> str:
    """Send one structured (where supported) request and return the model's text."""
    if provider == "gemini":
        config = types.GenerateContentConfig(response_mime_type="application/json", response_json_schema=RICH_SCHEMA)
        response = run(lambda: gemini_generate(emu, prompt, config=config))
        return str(response.text)
    if provider == "huggingface":
        out = run(lambda: hf_chat(emu, prompt, response_format=hf_schema_format(RICH_SCHEMA)))
        return str(out.choices[0].message.content)
    return str(run(lambda: slm_generate(emu, prompt))["generated_text"])


# --------------------------------------------------------------------------- Gemini


def test_gemini_text_answer_echoes_the_prompt_and_records_the_call(
    emulator: ProviderEmulator,
) -> None:
    # Given a running emulator
    # When google-genai asks for plain text with a system instruction
    config = types.GenerateContentConfig(system_instruction="you are terse", max_output_tokens=50, temperature=0.1)
    response = run(lambda: gemini_generate(emulator, "What is the tallest mountain?", config=config))

    # Then the SDK parses a deterministic echo with usage
    assert response.text == f"[emulated gemini {GEMINI_MODEL}] What is the tallest mountain?"
    assert response.usage_metadata is not None
    assert response.usage_metadata.prompt_token_count
    assert response.usage_metadata.total_token_count == (
        response.usage_metadata.prompt_token_count + (response.usage_metadata.candidates_token_count or 0)
    )
    # And the call is recorded, authenticated, without the key value
    (call,) = emulator.calls
    assert (call.provider, call.model, call.method) == ("gemini", GEMINI_MODEL, "POST")
    assert call.path == f"/v1beta/models/{GEMINI_MODEL}:generateContent"
    assert call.authenticated is True
    assert call.headers["x-goog-api-key"] == "<present>"
    assert call.body["generationConfig"]["maxOutputTokens"] == 50
    assert GEMINI_KEY not in repr(emulator.calls)


@pytest.mark.parametrize("field", ["response_schema", "response_json_schema"])
def test_gemini_structured_output_validates_against_the_schema(emulator: ProviderEmulator, field: str) -> None:
    # Given a JSON schema passed either way the SDK allows
    config = types.GenerateContentConfig(response_mime_type="application/json", **{field: RICH_SCHEMA})
    # When google-genai asks for structured output
    response = run(lambda: gemini_generate(emulator, "describe a shape", config=config))

    # Then the answer is JSON that validates
    jsonschema.validate(json.loads(str(response.text)), RICH_SCHEMA)
    # And the wire field is the one the SDK chose (responseSchema is Gemini's uppercase dialect)
    wire = emulator.calls[0].body["generationConfig"]
    if field == "response_schema":
        assert wire["responseSchema"]["type"] == "OBJECT"
        assert wire["responseSchema"]["properties"]["tags"]["min_items"] == 2
    else:
        assert wire["responseJsonSchema"] == RICH_SCHEMA


class _Pt(BaseModel):
    x: float = Field(ge=-10, le=10)
    y: float
    label: str | None = None


class _Shape(BaseModel):
    points: list[_Pt] = Field(min_length=1, max_length=50)
    kind: Literal["circle", "line"]
    n: int = Field(ge=4)


def test_gemini_pydantic_schema_is_parsed_by_the_sdk(emulator: ProviderEmulator) -> None:
    # Given a pydantic model as response_schema
    config = types.GenerateContentConfig(response_mime_type="application/json", response_schema=_Shape)
    # When asking for 6 points
    response = run(lambda: gemini_generate(emulator, "6 points please", config=config))

    # Then the SDK returns a parsed model instance
    assert isinstance(response.parsed, _Shape)
    assert len(response.parsed.points) == 6
    assert response.parsed.n > 3


def test_gemini_models_get_returns_a_model_resource(emulator: ProviderEmulator) -> None:
    # Given a running emulator
    async def probe() -> types.Model:
        client = genai.Client(
            api_key=GEMINI_KEY,
            http_options=types.HttpOptions(base_url=emulator.url, api_version="v1beta"),
        )
        try:
            return await client.aio.models.get(model=GEMINI_MODEL)
        finally:
            await client.aio.aclose()

    # When probing the model
    model = run(probe)

    # Then the SDK parses the model resource
    assert model.name == f"models/{GEMINI_MODEL}"
    assert model.input_token_limit
    assert model.output_token_limit
    assert emulator.calls[0].method == "GET"


def test_gemini_streaming_yields_chunks(emulator: ProviderEmulator) -> None:
    # Given a running emulator
    async def stream() -> list[str]:
        client = genai.Client(
            api_key=GEMINI_KEY,
            http_options=types.HttpOptions(base_url=emulator.url, api_version="v1beta"),
        )
        try:
            chunks = await client.aio.models.generate_content_stream(model=GEMINI_MODEL, contents="stream this please")
            return [c.text or "" async for c in chunks]
        finally:
            await client.aio.aclose()

    # When streaming
    pieces = run(stream)

    # Then the chunks join to the plain answer
    assert len(pieces) > 1
    assert "".join(pieces) == f"[emulated gemini {GEMINI_MODEL}] stream this please"


# --------------------------------------------------------------------------- Hugging Face


def test_hf_chat_completion_text(emulator: ProviderEmulator) -> None:
    # Given a running emulator
    # When huggingface_hub sends a chat completion
    out = run(lambda: hf_chat(emulator, "Say hi"))

    # Then it parses an OpenAI-shaped answer
    assert out.choices[0].message.content == f"[emulated huggingface {HF_MODEL}] Say hi"
    assert out.choices[0].finish_reason == "stop"
    assert out.usage.total_tokens == out.usage.prompt_tokens + out.usage.completion_tokens
    (call,) = emulator.calls
    assert (call.provider, call.model, call.path) == ("huggingface", HF_MODEL, "/v1/chat/completions")
    assert call.headers["authorization"] == "<present>"
    assert call.authenticated
    assert HF_KEY not in repr(emulator.calls)


def test_hf_json_schema_validates_and_arrives_in_tgi_shape(emulator: ProviderEmulator) -> None:
    # Given an OpenAI-style json_schema response_format
    # When huggingface_hub sends it
    out = run(lambda: hf_chat(emulator, response_format=hf_schema_format(RICH_SCHEMA)))

    # Then the content validates against the schema
    jsonschema.validate(json.loads(out.choices[0].message.content), RICH_SCHEMA)
    # And the SDK rewrote it to TGI's {"type": "json_object", "value": schema} on the wire
    assert emulator.calls[0].body["response_format"] == {"type": "json_object", "value": RICH_SCHEMA}


def test_hf_json_object_without_schema_answers_a_text_object(emulator: ProviderEmulator) -> None:
    # When asking for a JSON object with no schema
    out = run(lambda: hf_chat(emulator, "hi", response_format={"type": "json_object"}))

    # Then the answer is {"text": ...}
    assert json.loads(out.choices[0].message.content) == {"text": f"[emulated huggingface {HF_MODEL}] hi"}


def test_hf_prefixed_base_url_takes_the_model_from_the_path(emulator: ProviderEmulator) -> None:
    # Given an endpoint-style base URL and no explicit model (the SDK then sends "dummy")
    base = f"{emulator.url}/models/acme/tiny-model"

    # When chatting
    out = run(lambda: hf_chat(emulator, "x", model=None, base_url=base))  # type: ignore[arg-type]

    # Then the route matches and the model comes from the path
    assert out.choices[0].message.content.startswith("[emulated huggingface acme/tiny-model]")
    assert emulator.calls[0].path == "/models/acme/tiny-model/v1/chat/completions"


# --------------------------------------------------------------------------- sLM


def test_slm_generate_and_health(emulator: ProviderEmulator) -> None:
    # When calling /generate and /health with plain httpx
    out = run(lambda: slm_generate(emulator, "tell me a joke"))
    health = httpx.get(f"{emulator.url}/health", timeout=5)

    # Then both answer in the sLM shape
    assert out["generated_text"] == "[emulated slm slm] tell me a joke"
    assert out["input_tokens"] >= 1
    assert out["output_tokens"] >= 1
    assert health.json() == {"status": "ok"}
    assert [c.path for c in emulator.calls] == ["/generate", "/health"]


def test_slm_missing_prompt_is_a_422(emulator: ProviderEmulator) -> None:
    response = httpx.post(f"{emulator.url}/generate", json={"text": "x"}, timeout=5)
    assert response.status_code == 422
    assert "detail" in response.json()


# --------------------------------------------------------------------------- points special case


def _assert_on_circle(points: list[dict[str, float]], n: int, r: float, cx: float, cy: float) -> None:
    assert len(points) == n
    for p in points:
        assert math.isclose(math.hypot(p["x"] - cx, p["y"] - cy), r, rel_tol=1e-4)
    assert len({(round(p["x"], 3), round(p["y"], 3)) for p in points}) == n


@pytest.mark.parametrize("provider", ["gemini", "huggingface"])
def test_points_schema_lays_out_the_requested_count_on_a_circle(emulator: ProviderEmulator, provider: str) -> None:
    # Given a prompt with count, radius and center, and a points schema
    prompt = "Generate points. count: 10, radius: 100, center: (5, -5), dimensions: 2"

    # When the provider answers
    if provider == "gemini":
        config = types.GenerateContentConfig(response_mime_type="application/json", response_schema=POINTS_SCHEMA)
        text = str(run(lambda: gemini_generate(emulator, prompt, config=config)).text)
    else:
        out = run(lambda: hf_chat(emulator, prompt, response_format=hf_schema_format(POINTS_SCHEMA)))
        text = out.choices[0].message.content

    # Then there are 10 points on that circle, 2D, and the other required fields are set
    data = json.loads(text)
    jsonschema.validate(data, POINTS_SCHEMA)
    _assert_on_circle(data["points"], 10, 100.0, 5.0, -5.0)
    assert all("z" not in p for p in data["points"])
    assert isinstance(data["shape"], str)


def test_points_3d_and_defaults(emulator: ProviderEmulator) -> None:
    # Given a 3D prompt with no count, radius or center
    config = types.GenerateContentConfig(response_mime_type="application/json", response_json_schema=POINTS_SCHEMA)
    # When Gemini answers
    data = json.loads(str(run(lambda: gemini_generate(emulator, "a 3D ring", config=config)).text))

    # Then the defaults apply (8 points, unit circle at the origin) with z = 0
    _assert_on_circle(data["points"], 8, 1.0, 0.0, 0.0)
    assert all(p["z"] == 0 for p in data["points"])


def test_points_count_is_capped(emulator: ProviderEmulator) -> None:
    out = run(lambda: hf_chat(emulator, "5000 points", response_format=hf_schema_format(POINTS_SCHEMA)))
    assert len(json.loads(out.choices[0].message.content)["points"]) == 1000


def test_a_shape_spec_keeps_the_count_and_radius_the_constraints_name(emulator: ProviderEmulator) -> None:
    # Given the gateway's shape-spec schema and a prompt whose constraints name a count and a radius
    from gateway.geometry.spec import spec_schema

    prompt = "ten lamps for the garden\n\nConstraints: dimensions: 2; count: 10; radius: 1e+12."
    # When Hugging Face answers
    out = run(lambda: hf_chat(emulator, prompt, response_format=hf_schema_format(spec_schema(500))))
    # Then the spec has one primitive with that count and radius, as a model that follows its instructions would
    [primitive] = json.loads(out.choices[0].message.content)["primitives"]
    assert (primitive["count"], primitive["radius"]) == (10, 1e12)


# --------------------------------------------------------------------------- faults


@pytest.mark.parametrize("provider", ["gemini", "huggingface", "slm"])
def test_status_fault_surfaces_as_the_sdk_error_with_retry_after(
    emulator: ProviderEmulator, provider: Provider
) -> None:
    # Given a 429 with Retry-After for the next two calls
    emulator.fail(provider, "status", status=429, retry_after="7", times=2)

    # When calling three times
    errors_seen: list[BaseException] = []
    for _ in range(2):
        with pytest.raises((genai_errors.ClientError, HfHubHTTPError, httpx.HTTPStatusError)) as info:
            call_provider(emulator, provider)
        errors_seen.append(info.value)
    third = call_provider(emulator, provider)

    # Then the first two fail as each SDK reports a 429, and the third succeeds
    for err in errors_seen:
        if provider == "gemini":
            assert isinstance(err, genai_errors.ClientError)
            assert err.code == 429
            assert err.status == "RESOURCE_EXHAUSTED"
            assert err.response is not None
            assert err.response.headers["retry-after"] == "7"
        elif provider == "huggingface":
            assert isinstance(err, HfHubHTTPError)
            assert err.response.status_code == 429
            assert err.response.headers["retry-after"] == "7"
        else:
            assert isinstance(err, httpx.HTTPStatusError)
            assert err.response.status_code == 429
            assert err.response.json() == {"detail": "emulated slm error 429"}
    assert third
    assert emulator.faults == []
    assert [c.fault for c in emulator.calls] == ["status", "status", None]


def test_gemini_server_error_status(emulator: ProviderEmulator) -> None:
    emulator.fail("gemini", "status", status=503)
    with pytest.raises(genai_errors.ServerError) as info:
        run(lambda: gemini_generate(emulator))
    assert info.value.code == 503
    assert info.value.status == "UNAVAILABLE"


@pytest.mark.parametrize("provider", ["gemini", "huggingface", "slm"])
def test_malformed_fault_is_a_json_decode_error(emulator: ProviderEmulator, provider: Provider) -> None:
    # Given a 200 whose body is HTML
    emulator.fail(provider, "malformed")
    # Then every client fails to decode it (json.JSONDecodeError is a ValueError)
    with pytest.raises(json.JSONDecodeError):
        call_provider(emulator, provider)


def test_empty_fault(emulator: ProviderEmulator) -> None:
    # Given empty answers everywhere
    emulator.fail("*", "empty")

    # When each provider is called
    gemini = run(lambda: gemini_generate(emulator))
    hf = run(lambda: hf_chat(emulator))
    slm = run(lambda: slm_generate(emulator))

    # Then the envelopes parse but hold nothing
    assert gemini.candidates == []
    assert gemini.text is None
    assert hf.choices == []
    assert slm == {}


def test_blocked_fault(emulator: ProviderEmulator) -> None:
    # Given blocked answers everywhere
    emulator.fail("*", "blocked")

    # When each provider is called
    gemini = run(lambda: gemini_generate(emulator))
    hf = run(lambda: hf_chat(emulator))
    with pytest.raises(httpx.HTTPStatusError) as info:
        run(lambda: slm_generate(emulator))

    # Then each shows its own kind of refusal
    assert gemini.prompt_feedback is not None
    assert gemini.prompt_feedback.block_reason == types.BlockedReason.SAFETY
    assert gemini.text is None
    assert hf.choices[0].finish_reason == "content_filter"
    assert hf.choices[0].message.content == ""
    assert info.value.response.status_code == 400


@pytest.mark.parametrize("provider", ["gemini", "huggingface"])
def test_bad_json_fault_does_not_match_the_schema(emulator: ProviderEmulator, provider: Provider) -> None:
    emulator.fail(provider, "bad_json")
    text = call_provider(emulator, provider)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(json.loads(text), RICH_SCHEMA)


def test_bad_json_fault_on_plain_text_is_not_json(emulator: ProviderEmulator) -> None:
    emulator.fail("slm", "bad_json")
    with pytest.raises(json.JSONDecodeError):
        json.loads(run(lambda: slm_generate(emulator))["generated_text"])


@pytest.mark.parametrize("provider", ["gemini", "huggingface", "slm"])
def test_reset_fault_is_a_connection_error(emulator: ProviderEmulator, provider: Provider) -> None:
    # Given a connection reset
    emulator.fail(provider, "reset", times=1)
    # Then the client sees a transport error (the SDKs use httpx2, the sLM plain httpx)
    with pytest.raises((httpx2.TransportError, httpx.TransportError)):
        call_provider(emulator, provider)


def test_hang_fault_closes_without_an_answer(emulator: ProviderEmulator) -> None:
    emulator.fail("slm", "hang", delay_s=0.1)
    started = time.monotonic()
    with pytest.raises(httpx.TransportError):
        run(lambda: slm_generate(emulator))
    assert time.monotonic() - started >= 0.1


def test_delay_fault_then_answers_normally(emulator: ProviderEmulator) -> None:
    emulator.fail("gemini", "delay", delay_s=0.3, times=1)
    started = time.monotonic()
    response = run(lambda: gemini_generate(emulator, "slow"))
    assert time.monotonic() - started >= 0.3
    assert response.text == f"[emulated gemini {GEMINI_MODEL}] slow"


@pytest.mark.parametrize("provider", ["gemini", "huggingface", "slm"])
def test_body_fault_scripts_the_model_text(emulator: ProviderEmulator, provider: Provider) -> None:
    scripted = '{"points": [{"x": 1}]}'
    emulator.fail(provider, "body", body=scripted)
    assert call_provider(emulator, provider) == scripted


def test_model_filter_and_registration_order(emulator: ProviderEmulator) -> None:
    # Given a fault for one model and two faults for any Gemini model, in order
    emulator.fail("gemini", "status", status=404, model="gemini-old")
    emulator.fail("gemini", "body", body="first", times=1)
    emulator.fail("gemini", "body", body="second")

    # When calling another model twice, then the filtered model
    first = run(lambda: gemini_generate(emulator, model="gemini-new")).text
    second = run(lambda: gemini_generate(emulator, model="gemini-new")).text
    with pytest.raises(genai_errors.ClientError) as info:
        run(lambda: gemini_generate(emulator, model="gemini-old"))

    # Then the first matching fault wins each time, and the model filter holds
    assert (first, second) == ("first", "second")
    assert info.value.code == 404


def test_answer_faults_do_not_touch_probes(emulator: ProviderEmulator) -> None:
    # Given an answer-shaping fault on every provider
    emulator.fail("*", "blocked")
    # When probing sLM health
    response = httpx.get(f"{emulator.url}/health", timeout=5)
    # Then the probe is unaffected (status faults would apply to it)
    assert response.json() == {"status": "ok"}
    emulator.fail("slm", "status", status=503)
    emulator.reset()
    assert httpx.get(f"{emulator.url}/health", timeout=5).status_code == 200


def test_missing_key_is_rejected_like_the_provider(emulator: ProviderEmulator) -> None:
    gemini = httpx.post(
        f"{emulator.url}/v1beta/models/{GEMINI_MODEL}:generateContent",
        json={"contents": [{"parts": [{"text": "hi"}]}]},
        timeout=5,
    )
    hf = httpx.post(f"{emulator.url}/v1/chat/completions", json={"messages": []}, timeout=5)
    assert gemini.status_code == 403
    assert gemini.json()["error"]["status"] == "PERMISSION_DENIED"
    assert hf.status_code == 401
    assert [c.authenticated for c in emulator.calls] == [False, False]


def test_fail_rejects_unknown_provider_or_kind(emulator: ProviderEmulator) -> None:
    with pytest.raises(ValueError, match="provider must be one of"):
        emulator.fail("openai", "status")
    with pytest.raises(ValueError, match="kind must be one of"):
        emulator.fail("gemini", "explode")
    with pytest.raises(ValueError, match="needs body="):
        emulator.fail("gemini", "body")


# --------------------------------------------------------------------------- HTTP control API


def test_http_control_api_scripts_a_separate_emulator(emulator: ProviderEmulator) -> None:
    control = f"{emulator.url}/__emulator"
    # Given a fault posted over HTTP
    assert httpx.get(f"{control}/health", timeout=5).json()["status"] == "ok"
    posted = httpx.post(
        f"{control}/faults",
        json={"provider": "slm", "kind": "status", "status": 500, "times": 1},
        timeout=5,
    )
    assert posted.status_code == 201

    # When the sLM is called twice
    first = httpx.post(f"{emulator.url}/generate", json={"prompt": "a"}, timeout=5)
    second = httpx.post(f"{emulator.url}/generate", json={"prompt": "b"}, timeout=5)

    # Then the fault applied once, and the calls are listed over HTTP
    assert (first.status_code, second.status_code) == (500, 200)
    calls = httpx.get(f"{control}/calls", timeout=5).json()["calls"]
    assert [c["body"]["prompt"] for c in calls] == ["a", "b"]
    assert calls[0]["fault"] == "status"

    # And faults and calls can be cleared; bad faults are a 400
    httpx.post(f"{control}/faults", json={"provider": "*", "kind": "empty"}, timeout=5)
    assert httpx.delete(f"{control}/faults", timeout=5).status_code == 200
    assert httpx.get(f"{control}/faults", timeout=5).json() == {"faults": []}
    assert httpx.delete(f"{control}/calls", timeout=5).status_code == 200
    assert emulator.calls == []
    bad = httpx.post(f"{control}/faults", json={"provider": "x", "kind": "status"}, timeout=5)
    assert bad.status_code == 400


# --------------------------------------------------------------------------- lifecycle


def test_stop_returns_promptly_while_a_delay_is_sleeping() -> None:
    # Given a call stuck in a 30 s delay
    emu = ProviderEmulator().start()
    emu.fail("*", "delay", delay_s=30)
    outcome: list[BaseException | int] = []

    def call() -> None:
        try:
            outcome.append(httpx.post(f"{emu.url}/generate", json={"prompt": "x"}, timeout=10).status_code)
        except httpx.HTTPError as exc:
            outcome.append(exc)

    worker = threading.Thread(target=call)
    worker.start()
    deadline = time.monotonic() + 2
    while not emu.calls and time.monotonic() < deadline:
        time.sleep(0.01)

    # When stopping
    started = time.monotonic()
    emu.stop()
    elapsed = time.monotonic() - started
    worker.join(timeout=2)

    # Then stop is prompt and the client sees the connection drop
    assert elapsed < 1.0
    assert not worker.is_alive()
    assert isinstance(outcome[0], httpx.TransportError)


def test_restart_keeps_the_same_url() -> None:
    emu = ProviderEmulator().start()
    url = emu.url
    emu.stop()
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}/health", timeout=1)
    emu.start()
    try:
        assert emu.url == url
        assert httpx.get(f"{url}/health", timeout=5).status_code == 200
    finally:
        emu.stop()


def test_cli_prints_its_url_and_exits_on_sigterm() -> None:
    # Given the CLI on a free port
    proc = subprocess.Popen(
        [sys.executable, "-m", "dev.emulator", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        url = line.rsplit(" ", 1)[-1].strip()
        # When it is called, then SIGTERMed
        assert httpx.get(f"{url}/__emulator/health", timeout=5).status_code == 200
        proc.send_signal(signal.SIGTERM)
        # Then it exits cleanly
        assert proc.wait(timeout=5) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# --------------------------------------------------------------------------- schema generator


@pytest.mark.parametrize(
    "schema",
    [
        RICH_SCHEMA,
        {
            "$defs": {"P": {"type": "object", "properties": {"v": {"type": "integer"}}, "required": ["v"]}},
            "type": "object",
            "properties": {"items": {"type": "array", "items": {"$ref": "#/$defs/P"}, "minItems": 3}},
            "required": ["items"],
        },
        {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
        {"type": "integer", "exclusiveMinimum": 5},
        {"type": ["string", "null"], "maxLength": 3},
        {"type": "array", "items": {"enum": ["a", "b", "c"]}, "minItems": 3, "uniqueItems": True},
        {
            "allOf": [
                {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
                {"properties": {"b": {"const": 4}}, "required": ["b"]},
            ]
        },
        {"type": "string", "format": "date-time"},
    ],
)
def test_generated_values_validate(schema: dict[str, Any]) -> None:
    jsonschema.validate(generate_from_schema(schema), schema)


def test_gemini_dialect_schema_is_understood() -> None:
    # Given Gemini's uppercase dialect with the SDK's snake_case keys and nullable
    schema = {
        "type": "OBJECT",
        "properties": {
            "xs": {"type": "ARRAY", "items": {"type": "NUMBER", "minimum": 1.0, "maximum": 3.0}, "min_items": 2},
            "name": {"type": "STRING", "nullable": True},
            "kind": {"type": "STRING", "format": "enum", "enum": ["a", "b"]},
        },
        "required": ["xs", "name", "kind"],
    }
    # Then the value matches the lowercase reading
    assert generate_from_schema(schema) == {"xs": [2.0, 2.0], "name": "example", "kind": "a"}
