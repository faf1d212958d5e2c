"""Similarity for repetition detection: the local embedder on paraphrases, and Gemini embeddings."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx2
import pytest

from gateway.config.settings import load_settings
from gateway.learning.embeddings import LocalEmbedder, cosine, decode_vector, encode_vector, get_embedder
from gateway.providers.base import ProviderKeys
from gateway.providers.gemini import GeminiEmbedder

THRESHOLD = 0.9
local = LocalEmbedder()


def similarity(a: str, b: str) -> float:
    return cosine(local.vector(a), local.vector(b))


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("How do I reverse a list in Python?", "How can I reverse a Python list?"),
        ("How do I reverse a list in Python?", "could you please tell me how to reverse a list in python"),
        ("What is the capital of France?", "what's the capital of france??"),
        ("Explain how photosynthesis works", "Explain how photosynthesis work"),
        ("Summarise the benefits of serverless computing", "Summarize the benefits of serverless computing."),
        ("¿Cuál es la capital de Francia?", "Cuál es la capital de Francia"),
        ("法国的首都是哪里？", "法国的首都是哪里"),
    ],
)
def test_paraphrases_reach_the_threshold(first: str, second: str) -> None:
    assert similarity(first, second) >= THRESHOLD


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("How do I reverse a list in Python?", "How do I sort a list in Python?"),
        ("What is the capital of France?", "What is the capital of Germany?"),
        ("Explain how photosynthesis works", "Explain how vaccines work"),
        ("Write a poem about the sea", "Write a story about the sea"),
        ("How do I reverse a list in Python?", "What is the capital of France?"),
        ("What is 2 + 2?", "What is 3 + 3?"),
    ],
)
def test_different_questions_stay_below_the_threshold(first: str, second: str) -> None:
    assert similarity(first, second) < THRESHOLD


def test_vectors_survive_their_storage_format() -> None:
    vector = local.vector("How do I reverse a list in Python?")
    assert cosine(vector, decode_vector(encode_vector(vector))) == pytest.approx(1.0, abs=1e-3)
    assert len(encode_vector(vector)) == 2 * local.dimensions


def test_the_local_embedder_is_the_default_and_gemini_needs_its_key() -> None:
    async def chosen(environment: dict[str, str], keys: ProviderKeys) -> str:
        return get_embedder(load_settings(environment), keys).name

    assert asyncio.run(chosen({}, ProviderKeys(gemini="g"))) == local.name
    assert asyncio.run(chosen({"EMBEDDING_PROVIDER": "gemini"}, ProviderKeys())) == local.name
    gemini = asyncio.run(chosen({"EMBEDDING_PROVIDER": "gemini"}, ProviderKeys(gemini="g")))
    assert gemini == "gemini-gemini-embedding-001-256"


def test_gemini_embeddings_are_asked_for_similarity_and_normalised() -> None:
    # Given a Gemini API that answers one 4-dimension embedding
    seen: list[tuple[str, str | None, dict[str, Any]]] = []

    def answer(request: httpx2.Request) -> httpx2.Response:
        seen.append((request.url.path, request.headers.get("x-goog-api-key"), json.loads(request.content)))
        return httpx2.Response(200, json={"embeddings": [{"values": [3.0, 0.0, 4.0, 0.0]}]})

    async def embed() -> list[float]:
        client = httpx2.AsyncClient(transport=httpx2.MockTransport(answer))
        embedder = GeminiEmbedder(
            api_key="g-key",
            model="gemini-embedding-001",
            base_url="http://gemini.test",
            timeout_ms=1000,
            dimensions=4,
            httpx_async_client=client,
        )
        return await embedder.embed("How do I reverse a list in Python?")

    # When a prompt is embedded
    vector = asyncio.run(embed())
    # Then the SDK asked for a semantic-similarity embedding of the wanted size, with the key
    ((path, key, body),) = seen
    assert path.endswith("/models/gemini-embedding-001:batchEmbedContents")
    assert key == "g-key"
    (item,) = body["requests"]
    assert item["taskType"] == "SEMANTIC_SIMILARITY"
    assert item["outputDimensionality"] == 4
    assert item["content"]["parts"] == [{"text": "How do I reverse a list in Python?"}]
    # And the vector comes back normalised
    assert vector == pytest.approx([0.6, 0.0, 0.8, 0.0])


def test_a_gemini_answer_of_the_wrong_size_is_refused() -> None:
    def answer(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, json={"embeddings": [{"values": [1.0, 2.0]}]})

    async def embed() -> list[float]:
        client = httpx2.AsyncClient(transport=httpx2.MockTransport(answer))
        embedder = GeminiEmbedder(
            api_key="k",
            model="m",
            base_url="http://gemini.test",
            timeout_ms=1000,
            dimensions=4,
            httpx_async_client=client,
        )
        return await embedder.embed("x")

    with pytest.raises(ValueError, match="expected 4 dimensions"):
        asyncio.run(embed())
