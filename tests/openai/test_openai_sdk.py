"""The OpenAI-compatible API through the real `openai` SDK (sync and async, streamed and not), against the chat
function under uvicorn with moto and the provider emulator behind it: models, requests, tools, structured output,
fallbacks before the first token, errors in OpenAI's shape, and a stream cut mid-answer that the client sees fail."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import openai
import pytest
from openai import AsyncOpenAI, OpenAI
from openai.types.chat import ChatCompletion, ChatCompletionChunk, ChatCompletionMessageParam, ChatCompletionToolParam
from pydantic import BaseModel

from tests.conftest import Gateway

HELLO: list[ChatCompletionMessageParam] = [
    {"role": "user", "content": "Explain in one short sentence what a Python generator is."}
]
WEATHER_TOOL: ChatCompletionToolParam = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def _streamed(chunks: list[ChatCompletionChunk]) -> str:
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


def test_a_whole_answer_with_auto_routing(client: OpenAI) -> None:
    # When a client asks for model auto, as it would ask OpenAI
    raw = client.chat.completions.with_raw_response.create(model="auto", messages=HELLO)
    completion = raw.parse()
    # Then the answer is an OpenAI chat completion, naming the model that answered (the sLM: a simple prompt)
    assert isinstance(completion, ChatCompletion)
    assert completion.model == "slm"
    assert completion.choices[0].finish_reason == "stop"
    assert "Python generator" in (completion.choices[0].message.content or "")
    assert completion.usage is not None
    assert completion.usage.completion_tokens > 0
    # And who answered, and what was tried, is in the headers and in the extra gateway field
    assert raw.headers["x-gateway-provider"] == "slm"
    assert raw.headers["x-gateway-fallback"] == "false"
    assert completion.model_extra is not None
    assert completion.model_extra["gateway"]["attempts"][0]["outcome"] == "ok"


def test_a_streamed_answer_with_usage_in_the_last_chunk(client: OpenAI, gateway: Gateway) -> None:
    # Given Gemini answering (the sLM down, before any token)
    gateway.emulator.fail("slm", "status", status=503)
    # When the client streams, asking for the usage
    with client.chat.completions.with_streaming_response.create(
        model="auto",
        messages=HELLO,
        stream=True,
        stream_options={"include_usage": True},
    ) as response:
        headers = response.headers
        chunks = list(response.parse())
    # Then the answer came in several chunks from Gemini, the fallback shown in the headers only
    assert headers["x-gateway-provider"] == "gemini"
    assert headers["x-gateway-fallback"] == "true"
    assert headers["x-gateway-attempts"] == "slm:server_error, gemini:streaming"
    assert sum(1 for c in chunks if c.choices and c.choices[0].delta.content) > 1
    assert "Python generator" in _streamed(chunks)
    assert {c.model for c in chunks} == {"gemini-2.5-flash"}
    # And the finish reason comes before a last chunk that carries the usage and no choice
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.total_tokens == chunks[-1].usage.prompt_tokens + chunks[-1].usage.completion_tokens


def test_the_async_client_streamed_and_not(async_client: AsyncOpenAI) -> None:
    async def run() -> tuple[ChatCompletion, list[ChatCompletionChunk]]:
        whole = await async_client.chat.completions.create(model="gemini-2.5-flash", messages=HELLO)
        stream = await async_client.chat.completions.create(
            model="gemini-2.5-flash",
            messages=HELLO,
            stream=True,
        )
        chunks = [chunk async for chunk in stream]
        await async_client.close()
        return whole, chunks

    # When the async client asks for a catalogue model, whole and streamed
    whole, chunks = asyncio.run(run())
    # Then both answers are that model's, and the same
    assert whole.model == "gemini-2.5-flash"
    assert _streamed(chunks) == whole.choices[0].message.content


def test_every_provider_failing_is_an_http_error_before_any_stream(client: OpenAI, gateway: Gateway) -> None:
    # Given every provider answering 503
    gateway.emulator.fail("*", "status", status=503)
    # When the client asks for a stream, then it gets the error status, never a 200 and an empty stream
    with pytest.raises(openai.APIStatusError) as failed:
        client.chat.completions.create(model="auto", messages=HELLO, stream=True)
    assert failed.value.status_code == 502
    error = failed.value.body
    assert isinstance(error, dict)
    assert error["code"] == "all_providers_failed"
    assert error["type"] == "server_error"
    assert [a["outcome"] for a in error["attempts"]] == ["server_error", "server_error", "server_error"]


def test_a_stream_cut_mid_answer_fails_in_the_client_without_done(client: OpenAI, gateway: Gateway) -> None:
    # Given Gemini dropping its connection after two chunks
    gateway.emulator.fail("gemini", "cut", after_chunks=2)
    received: list[ChatCompletionChunk] = []
    stream = client.chat.completions.create(model="gemini-2.5-flash", messages=HELLO, stream=True)
    # When the client streams, then the stream fails in the client after the chunks before the cut
    with pytest.raises(openai.APIError) as failed:
        received.extend(stream)
    assert "failed after its answer began" in failed.value.message
    assert sum(1 for c in received if c.choices and c.choices[0].delta.content) == 2
    assert all(c.choices[0].finish_reason is None for c in received if c.choices)


def test_the_raw_stream_ends_with_an_error_event_and_no_done(base_url: str, gateway: Gateway) -> None:
    gateway.emulator.fail("gemini", "cut", after_chunks=1)
    body = {"model": "gemini-2.5-flash", "messages": HELLO, "stream": True}
    # When the stream is read as bytes
    with httpx.stream("POST", f"{base_url}/chat/completions", json=body, timeout=30) as response:
        events = [line for line in response.iter_lines() if line.startswith("data: ")]
    # Then the last event is an OpenAI error, and [DONE] never came
    assert response.status_code == 200
    assert json.loads(events[-1].removeprefix("data: "))["error"]["code"] == "provider_stream_failed"
    assert "data: [DONE]" not in events


def test_keep_alive_comments_flow_while_the_provider_is_silent(
    base_url: str, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given keep-alives every 0.2 s and Gemini silent for 1.5 s after its first chunk
    monkeypatch.setenv("SSE_KEEPALIVE_MS", "200")
    gateway.emulator.fail("gemini", "stall", after_chunks=1, delay_s=1.5)
    body = {"model": "gemini-2.5-flash", "messages": HELLO, "stream": True}
    with httpx.stream("POST", f"{base_url}/chat/completions", json=body, timeout=30) as response:
        lines = [line for line in response.iter_lines() if line]
    # Then comments came while it was silent (the stall then drops the connection: an error, no [DONE])
    assert sum(line.startswith(":") for line in lines) >= 3
    assert lines[-1].startswith('data: {"error"')


def test_errors_in_openais_shape(client: OpenAI) -> None:
    # An unknown model is a 404 naming it
    with pytest.raises(openai.NotFoundError) as missing:
        client.chat.completions.create(model="gpt-4o", messages=HELLO)
    assert "gpt-4o" in missing.value.message
    # A field the gateway cannot honour is a 400 naming it, never dropped
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model="auto", messages=HELLO, n=2)
    assert isinstance(refused.value.body, dict)
    assert refused.value.body["param"] == "n"
    with pytest.raises(openai.BadRequestError) as logprobs:
        client.chat.completions.create(model="auto", messages=HELLO, logprobs=True)
    assert isinstance(logprobs.value.body, dict)
    assert logprobs.value.body["param"] == "logprobs"
    # An invalid value is a 400 naming the field
    with pytest.raises(openai.BadRequestError) as invalid:
        client.chat.completions.create(model="auto", messages=HELLO, temperature=7)
    assert isinstance(invalid.value.body, dict)
    assert invalid.value.body["param"] == "temperature"


def test_the_spend_cap_is_a_rate_limit_error(client: OpenAI, gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a cap too small for any paid call, and no sLM
    monkeypatch.setenv("AI_DAILY_COST_LIMIT", "0.000001")
    # When the client asks a paid model, streamed, then it is told so with OpenAI's 429 before any stream
    with pytest.raises(openai.RateLimitError) as capped:
        client.chat.completions.create(model="gemini-2.5-flash", messages=HELLO, stream=True)
    assert isinstance(capped.value.body, dict)
    assert capped.value.body["code"] == "spend_cap_reached"


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_tool_calls_through_a_fallback(client: OpenAI, gateway: Gateway, stream: bool) -> None:
    # Given Gemini failing before its answer, so that Hugging Face answers
    gateway.emulator.fail("gemini", "status", status=503)
    messages: list[ChatCompletionMessageParam] = [{"role": "user", "content": "What is the weather in Paris?"}]
    # When the client offers a tool
    if stream:
        chunks = list(
            client.chat.completions.create(
                model="gemini-2.5-flash", messages=messages, tools=[WEATHER_TOOL], stream=True
            )
        )
        calls = [call for c in chunks if c.choices for call in c.choices[0].delta.tool_calls or []]
        finish = [c.choices[0].finish_reason for c in chunks if c.choices][-1]
        assert calls[0].function is not None
        name, arguments, call_id = calls[0].function.name or "", calls[0].function.arguments or "", calls[0].id or ""
        model = chunks[0].model
    else:
        completion = client.chat.completions.create(model="gemini-2.5-flash", messages=messages, tools=[WEATHER_TOOL])
        (call,) = completion.choices[0].message.tool_calls or []
        assert call.type == "function"
        finish, model = completion.choices[0].finish_reason, completion.model
        name, arguments, call_id = call.function.name, call.function.arguments, call.id
    # Then the fallback's call comes back as OpenAI's tool_calls, with finish_reason tool_calls
    assert model == "meta-llama/Llama-3.1-8B-Instruct"
    assert (name, finish) == ("get_weather", "tool_calls")
    assert set(json.loads(arguments)) == {"city"}
    # And the tool's answer sent back gets the model's text
    follow_up: list[ChatCompletionMessageParam] = [
        *messages,
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}]},
        {"role": "tool", "tool_call_id": call_id, "content": "18 degrees and sunny"},
    ]  # fmt: skip
    answer = client.chat.completions.create(model="gemini-2.5-flash", messages=follow_up, tools=[WEATHER_TOOL])
    assert "18 degrees and sunny" in (answer.choices[0].message.content or "")


class Recipe(BaseModel):
    title: str
    minutes: int
    ingredients: list[str]


def test_a_json_schema_kept_through_a_fallback_and_checked(client: OpenAI, gateway: Gateway) -> None:
    # Given Gemini answering JSON that breaks the schema, once
    gateway.emulator.fail("gemini", "bad_json", times=1)
    # When the client asks for structured output (the SDK sends a strict json_schema)
    completion = client.chat.completions.parse(
        model="gemini-2.5-flash", messages=[{"role": "user", "content": "A quick pasta recipe"}], response_format=Recipe
    )
    # Then the answer that passed on is the fallback's, valid against the schema, which every hop was given
    recipe = completion.choices[0].message.parsed
    assert isinstance(recipe, Recipe)
    assert completion.model == "meta-llama/Llama-3.1-8B-Instruct"
    gemini_call, hf_call = gateway.emulator.calls_for("gemini")[-1], gateway.emulator.calls_for("huggingface")[-1]
    fields = {"title", "minutes", "ingredients"}
    assert gemini_call.body["generationConfig"]["responseJsonSchema"]["properties"].keys() == fields
    assert set(hf_call.body["response_format"]["value"]["required"]) == fields  # huggingface_hub's wire shape (TGI's)
    gateway_field = completion.model_extra["gateway"] if completion.model_extra else {}
    assert [a["outcome"] for a in gateway_field["attempts"]] == ["invalid_output", "ok"]


def test_models_and_embeddings(client: OpenAI) -> None:
    # The models: auto and the catalogue, each retrievable (ids with slashes too)
    ids = [model.id for model in client.models.list()]
    assert ids[0] == "auto"
    assert {"gemini-2.5-flash", "meta-llama/Llama-3.1-8B-Instruct"} <= set(ids)
    assert client.models.retrieve("meta-llama/Llama-3.1-8B-Instruct").owned_by == "huggingface"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-4o")
    # Embeddings: a list or a single string, in the SDK's default encoding (base64) and as floats
    many = client.embeddings.create(model="gemini-embedding-001", input=["first text", "second text"], dimensions=16)
    assert [len(item.embedding) for item in many.data] == [16, 16]
    one = client.embeddings.create(
        model="gemini-embedding-001", input="first text", dimensions=16, encoding_format="float"
    )
    assert one.data[0].embedding == pytest.approx(many.data[0].embedding, abs=1e-6)
    assert sum(x * x for x in one.data[0].embedding) == pytest.approx(1.0, abs=1e-5)
    with pytest.raises(openai.NotFoundError):
        client.embeddings.create(model="text-embedding-3-small", input="x")


def test_twenty_concurrent_streams_all_complete(async_client: AsyncOpenAI) -> None:
    async def one(n: int) -> str:
        stream = await async_client.chat.completions.create(
            model="gemini-2.5-flash", messages=[{"role": "user", "content": f"Stream {n} about rivers"}], stream=True
        )
        return "".join([chunk.choices[0].delta.content or "" async for chunk in stream if chunk.choices])

    async def run() -> list[str]:
        try:
            return await asyncio.gather(*(one(n) for n in range(20)))
        finally:
            await async_client.close()

    # When twenty streams run at once, then each completes with its own answer
    answers = asyncio.run(run())
    assert [f"Stream {n} about rivers" in answer for n, answer in enumerate(answers)] == [True] * 20


def test_the_deadline_comes_from_the_web_adapters_lambda_context(
    base_url: str, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given Gemini slow to start (2 s) and the web adapter saying the Lambda has 1.2 s left
    gateway.emulator.fail("gemini", "delay", delay_s=2.0)
    deadline_ms = int(time.time() * 1000) + 1200
    body = {"model": "gemini-2.5-flash", "messages": HELLO, "stream": True}
    headers = {"x-amzn-lambda-context": json.dumps({"request_id": "r", "deadline": deadline_ms})}
    # When a stream is asked for, then the gateway answers in time with 504 before any stream
    answer = httpx.post(f"{base_url}/chat/completions", json=body, headers=headers, timeout=30)
    assert answer.status_code == 504
    assert answer.json()["error"]["code"] == "deadline_exceeded"
