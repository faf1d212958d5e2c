"""The API key a request came with reaches the request context from API Gateway's event (Mangum), or, for a function
served by uvicorn behind the Lambda Web Adapter, from the request context the adapter stamps in a header."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from fastapi import FastAPI

from gateway.core import caller
from gateway.http.app import Context, create_app


def _app() -> FastAPI:
    app = create_app("identity-test", "")

    @app.get("/whoami")
    async def whoami(ctx: Context) -> dict[str, str | None]:
        current = caller.current()
        return {"context": ctx.api_key_id, "caller": current.api_key_id if current else None}

    return app


def _get(headers: dict[str, str]) -> dict[str, str | None]:
    async def call() -> dict[str, str | None]:
        transport = httpx.ASGITransport(app=_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            answer: dict[str, str | None] = (await client.get("/whoami", headers=headers)).json()
            return answer

    return asyncio.run(call())


def test_behind_the_web_adapter_the_key_comes_from_the_stamped_request_context(
    clean_env: pytest.MonkeyPatch,
) -> None:
    clean_env.setenv("GATEWAY_MODE", "local")
    stamped = {"x-amzn-request-context": json.dumps({"identity": {"apiKeyId": "keyFromGateway01"}})}
    # The request context and the caller the guards read both name the key API Gateway identified
    assert _get(stamped) == {"context": "keyFromGateway01", "caller": "keyFromGateway01"}
    # And without it there is no key (never one from another header or the body)
    assert _get({"x-api-key-id": "keyFromGateway01"}) == {"context": None, "caller": None}
    assert _get({"x-amzn-request-context": "not json"}) == {"context": None, "caller": None}
