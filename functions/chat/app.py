"""The chat function: the OpenAI-compatible API (`POST /v1/chat/completions`, streamed or not; `GET /v1/models`,
`GET /v1/models/{id}`; `POST /v1/embeddings`), errors in OpenAI's shape (docs/openai.md).

In AWS it runs under uvicorn behind the Lambda Web Adapter, which streams its answers through API Gateway
(`run.sh`); `handler` is the same app for a Lambda invocation with an API Gateway event (buffered: `make invoke`,
the tests' in-process calls)."""

from __future__ import annotations

from gateway.core.coldstart import loading

# The function's modules and its app live as long as the process: no GC passes over them (gateway.core.coldstart).
with loading("chat app"):
    from typing import Any

    from fastapi import Path
    from fastapi.responses import JSONResponse, Response

    from gateway.endpoints import catalogue, chat
    from gateway.endpoints.chat_models import ChatCompletionRequest, EmbeddingRequest
    from gateway.http.app import StreamingContext, create_app
    from gateway.http.errors import openai_error_response
    from gateway.http.lambda_entry import adapter_entry, lambda_entry
    from gateway.http.sse import event_stream

    app = create_app(
        "chat",
        "The OpenAI-compatible API: chat completions (streamed as server-sent events or not), models, embeddings.",
        render=openai_error_response,
    )

    @app.post(
        "/v1/chat/completions",
        response_model=None,
        responses={200: {
            "description": "a `chat.completion`, or (`stream: true`) `chat.completion.chunk` events then `[DONE]`",
            "content": {"application/json": {"schema": {"type": "object"}},
                        "text/event-stream": {"schema": {"type": "string"}}},
        }},
    )  # fmt: skip
    async def post_chat_completions(body: ChatCompletionRequest, ctx: StreamingContext) -> Response:
        if body.stream:
            events, headers = await chat.start_stream(body, ctx)
            return event_stream(events, ctx.request_id, headers)
        answer, headers = await chat.complete(body, ctx)
        return JSONResponse(answer, headers=headers)

    @app.get("/v1/models")
    async def get_models() -> dict[str, Any]:
        return catalogue.models()

    @app.get("/v1/models/{model:path}")  # API Gateway's {model+}: model ids have slashes
    async def get_model(model: str = Path(min_length=1, max_length=128)) -> dict[str, Any]:
        return catalogue.model(model)

    @app.post("/v1/embeddings")
    async def post_embeddings(body: EmbeddingRequest, ctx: StreamingContext) -> dict[str, Any]:
        return await catalogue.embeddings(body, ctx)

    handler = lambda_entry(app)
    asgi = adapter_entry(app)  # what uvicorn serves in Lambda (run.sh) and under `make run`
