"""The OpenAI-compatible model list (`GET /v1/models`, `GET /v1/models/{id}`) and embeddings (`POST /v1/embeddings`,
through the providers' embedders: `gemini-embedding-001` by default, `GEMINI_EMBEDDING_MODEL`)."""

from __future__ import annotations

import base64
import struct
from typing import Any

from gateway.config.context import RequestContext
from gateway.core.catalogue import catalogue
from gateway.core.errors import AllProvidersFailedError, ModelNotFoundError, short
from gateway.endpoints.chat import AUTO
from gateway.endpoints.chat_models import EmbeddingRequest
from gateway.providers import registry
from gateway.providers.base import BatchEmbedder, ProviderError, transport_or_unreadable

CREATED = 1735689600  # 2025-01-01: the catalogue's models carry no date of their own


def models() -> dict[str, Any]:
    """`auto` (the route endpoint's routing) and every model of the catalogue."""
    return {"object": "list", "data": [_model(name) for name in [AUTO, *catalogue().models]]}


def model(model_id: str) -> dict[str, Any]:
    if model_id != AUTO and model_id not in catalogue().models:
        raise ModelNotFoundError(f"the model {model_id!r} does not exist; GET /v1/models lists them")
    return _model(model_id)


def _model(name: str) -> dict[str, Any]:
    owner = "gateway" if name == AUTO else catalogue().models[name].provider
    return {"id": name, "object": "model", "created": CREATED, "owned_by": owner}


def _embedders(ctx: RequestContext) -> dict[str, BatchEmbedder]:
    found = (registry.embedder(name, ctx.settings, ctx.keys) for name in registry.PROVIDERS)
    return {embedder.model: embedder for embedder in found if embedder is not None}


async def embeddings(body: EmbeddingRequest, ctx: RequestContext) -> dict[str, Any]:
    """One vector per input text, as floats or as base64 (little-endian float32, as the openai SDK asks)."""
    embedders = _embedders(ctx)
    embedder = embedders.get(body.model)
    if embedder is None:
        served = ", ".join(sorted(embedders)) or "none is configured"
        raise ModelNotFoundError(f"the embedding model {body.model!r} is not served here ({served})")
    try:
        vectors = await embedder.embed_many(body.texts, body.dimensions, "RETRIEVAL_DOCUMENT")
    except Exception as exc:
        failure = exc if isinstance(exc, ProviderError) else transport_or_unreadable(exc)
        if failure is None and not isinstance(exc, ValueError):
            raise
        message = short(str(failure or exc))
        raise AllProvidersFailedError(f"the embedding model failed: {message}") from None
    tokens = sum(max(1, len(text) // 4) for text in body.texts)  # Gemini reports no usage for embeddings
    return {
        "object": "list",
        "data": [
            {"object": "embedding", "index": index, "embedding": _encoded(vector, body.encoding_format)}
            for index, vector in enumerate(vectors)
        ],
        "model": body.model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


def _encoded(vector: list[float], encoding: str) -> list[float] | str:
    if encoding == "float":
        return vector
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
