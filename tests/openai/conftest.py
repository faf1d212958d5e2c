"""Fixtures for the OpenAI-compatible API: the chat function under uvicorn (as the web adapter runs it in AWS), with
the gateway's moto and provider emulator behind it, and the real clients pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from openai import AsyncOpenAI, OpenAI

from dev.chat_server import ChatServer
from tests.conftest import Gateway


@pytest.fixture
def base_url(gateway: Gateway) -> Iterator[str]:
    """The OpenAI base URL of the chat function, served by uvicorn on a free port."""
    with ChatServer() as server:
        yield f"{server.url}/v1"


@pytest.fixture
def client(base_url: str) -> Iterator[OpenAI]:
    with OpenAI(base_url=base_url, api_key="local-GatewayApiApiKey", max_retries=0, timeout=60) as openai:
        yield openai


@pytest.fixture
def async_client(base_url: str) -> AsyncOpenAI:
    return AsyncOpenAI(base_url=base_url, api_key="local-GatewayApiApiKey", max_retries=0, timeout=60)
