"""Every answered route is stored; a prompt that repeats earlier ones of its topic becomes training data.

Storing and detecting run after the answer is known and never fail the request: a store or embedder
failure is logged and counted, and the client still gets its answer.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass

from aws_lambda_powertools.metrics import MetricUnit

from gateway.embeddings import Embedder, cosine, decode_vector, encode_vector, get_embedder
from gateway.observability import logger, metrics
from gateway.redaction import Redactor
from gateway.request_context import RequestContext
from gateway.stores.interactions import Interaction, InteractionStore
from gateway.stores.queues import QueueSender
from gateway.training_example import TrainingExample

EMBED_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class Answered:
    """One answered route, as it is stored."""

    user_id: str
    topic: str
    language: str
    prompt: str
    answer: str
    provider: str
    model: str
    input_tokens: int
    output_tokens: int
    cost_usd: float | None
    cached: bool


@dataclass(frozen=True)
class Repetition:
    similarity: float  # to the most similar earlier prompt of the topic; 0.0 when there is none
    training_example_queued: bool


async def record(answered: Answered, ctx: RequestContext) -> Repetition | None:
    """Store the interaction and queue a training example when the prompt repeats; None when not stored."""
    settings = ctx.settings
    if not settings.interactions_table:
        return None
    try:
        embedder = get_embedder(settings, ctx.keys)
        vector = await _embed(embedder, answered.prompt, ctx)
        store = InteractionStore(settings.interactions_table, settings.interaction_retention_s)
        earlier = store.recent(answered.topic, settings.repetition_window) if vector else []
        similarity = max(
            (cosine(vector, decode_vector(e.embedding)) for e in earlier if vector and e.embedder == embedder.name),
            default=0.0,
        )
        store.put(
            Interaction(
                topic=answered.topic,
                user_id=answered.user_id,
                request_id=ctx.request_id,
                language=answered.language,
                prompt_hash=hashlib.sha256(answered.prompt.encode()).hexdigest(),
                answer=answered.answer,
                provider=answered.provider,
                model=answered.model,
                input_tokens=answered.input_tokens,
                output_tokens=answered.output_tokens,
                cost_usd=answered.cost_usd,
                cached=answered.cached,
                embedder=embedder.name if vector else "none",
                embedding=encode_vector(vector) if vector else b"",
                created_at=time.time(),
            )
        )
        queued = similarity >= settings.similarity_threshold and _queue_example(answered, similarity, ctx)
        return Repetition(round(similarity, 4), queued)
    except Exception as exc:
        logger.warning("interaction not recorded", extra={"error": f"{type(exc).__name__}: {exc}"})
        metrics.add_metric(name="InteractionsNotRecorded", unit=MetricUnit.Count, value=1)
        return None


async def _embed(embedder: Embedder, prompt: str, ctx: RequestContext) -> list[float] | None:
    """The prompt's embedding, or None (the interaction is then stored without one) on failure."""
    budget = min(EMBED_TIMEOUT_S, ctx.deadline.remaining())
    try:
        return await asyncio.wait_for(embedder.embed(prompt), timeout=max(budget, 0.01))
    except Exception as exc:
        logger.warning("prompt not embedded", extra={"embedder": embedder.name, "error": f"{type(exc).__name__}"})
        metrics.add_metric(name="EmbeddingsFailed", unit=MetricUnit.Count, value=1)
        return None


def _queue_example(answered: Answered, similarity: float, ctx: RequestContext) -> bool:
    if not ctx.settings.training_queue_url:
        return False
    # Training data leaves the request for SQS, S3 and maybe a public dataset: secrets and personal data
    # are redacted first, as they are before an error reaches a provider.
    redactor = Redactor(ctx.keys.values())
    example = TrainingExample.create(
        topic=answered.topic,
        language=answered.language,
        prompt=redactor.text(answered.prompt),
        answer=redactor.text(answered.answer),
        provider=answered.provider,
        model=answered.model,
        similarity=similarity,
    )
    QueueSender(ctx.settings.training_queue_url).send(example.model_dump(mode="json"))
    metrics.add_metric(name="TrainingExamplesQueued", unit=MetricUnit.Count, value=1)
    logger.info("repeated prompt queued as a training example", extra={"example_id": example.example_id})
    return True
