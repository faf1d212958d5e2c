"""The repetition detector: new interactions from the table's stream; a repeated prompt becomes training data.

The training consumer function runs it on the interactions table's stream (INSERTs only, through
`gateway.endpoints.interactions_stream`), off the route's response path. For each new interaction, in stream
order: embed its prompt, compare it with the embeddings of the topic's earlier interactions (REPETITION_WINDOW of
them), store the embedding on the item and remove the prompt (`InteractionStore.settle`), and, when the prompt is
at least SIMILARITY_THRESHOLD similar to one of them, queue a training example. Every step can run twice for
the same record (stream redelivery) with the same outcome: the example's id is a hash of its content.

A record that fails (an embedder or store error) is reported as a batch item failure: Lambda retries
from it, then hands the batch to the on-failure destination (`InteractionsFailureQueue`). Each embedding
has a time budget, and a record the invocation has no time left for fails at once, so that a slow embedder
makes the batch resume where it stopped rather than time the whole invocation out.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from gateway.analysis.redaction import Redactor
from gateway.config.keys import load_provider_keys
from gateway.config.settings import Settings, get_settings
from gateway.core import runtime
from gateway.core.errors import ConfigurationError
from gateway.learning.embeddings import cosine, decode_vector, encode_vector, get_embedder
from gateway.learning.training_example import TrainingExample
from gateway.observability import logger, metrics
from gateway.providers.base import Embedder, ProviderKeys
from gateway.stores.interactions import InteractionStore, NewInteraction, RatingState
from gateway.stores.queues import QueueSender

EMBED_TIMEOUT_S = 5.0  # one embedding at most (Gemini's; the local embedder takes a fraction of a millisecond)
WRITES_RESERVE_S = 2.0  # kept back for the record's writes (settle, queue) after its embedding


def similarity_to_earlier(
    interaction: NewInteraction, settings: Settings, keys: ProviderKeys, remaining_s: Callable[[], float]
) -> tuple[float, RatingState | None]:
    """Embed the prompt, settle the item, and return its highest similarity to the topic's earlier prompts, and its
    rating as it stands (None: the item expired meanwhile)."""
    if not settings.interactions_table:
        raise ConfigurationError("INTERACTIONS_TABLE is not set: new interactions cannot be compared")
    budget = min(EMBED_TIMEOUT_S, remaining_s() - WRITES_RESERVE_S)
    if budget <= 0:
        raise TimeoutError("no time left in this invocation to compare the interaction; the next one will")
    embedder = runtime.run(_embedder(settings, keys))
    vector = runtime.run(asyncio.wait_for(embedder.embed(interaction.prompt), timeout=budget))
    store = InteractionStore(settings.interactions_table, settings.interaction_retention_s)
    earlier = store.earlier(interaction.topic, interaction.sk, settings.repetition_window)
    similarity = max(
        (cosine(vector, decode_vector(e.embedding)) for e in earlier if e.embedder == embedder.name), default=0.0
    )
    state = store.settle(interaction.pk, interaction.sk, embedder.name, encode_vector(vector))
    if state is None:
        logger.info("interaction expired before it was compared", extra={"sk": interaction.sk})
    return similarity, state


async def _embedder(settings: Settings, keys: ProviderKeys) -> Embedder:
    return get_embedder(settings, keys)  # inside the loop: a Gemini client is bound to the running loop


def queue_example(interaction: NewInteraction, similarity: float, settings: Settings, keys: ProviderKeys) -> str:
    """Queue the interaction as a training example; its id."""
    if not settings.training_queue_url:
        raise ConfigurationError("TRAINING_QUEUE_URL is not set: a repeated prompt has nowhere to go")
    redactor = Redactor(keys.values())  # the prompt was redacted when stored; the answer is redacted here
    example = TrainingExample.create(
        topic=interaction.topic,
        language=interaction.language,
        prompt=redactor.text(interaction.prompt),
        answer=redactor.text(interaction.answer),
        provider=interaction.provider,
        model=interaction.model,
        similarity=similarity,
        source=(interaction.pk, interaction.sk),
    )
    QueueSender(settings.training_queue_url).send(example.model_dump(mode="json"))
    metrics.add_metric(name="TrainingExamplesQueued", unit=MetricUnit.Count, value=1)
    logger.info("repeated prompt queued as a training example", extra={"example_id": example.example_id})
    return example.example_id


def detect(record: DynamoDBRecord, remaining_s: Callable[[], float] = lambda: math.inf) -> float | None:
    """Compare one new interaction with the earlier ones; its similarity (None for a record that is not an INSERT).

    `remaining_s`: the seconds the invocation has left.
    """
    if record.event_name is None or record.event_name.name != "INSERT" or record.dynamodb is None:
        return None  # the event source's filter lets only INSERTs through; settling is a MODIFY
    image = record.dynamodb.new_image
    if "embedding" in image:
        return None  # embedded when written (a route function older than this detector): nothing to compare
    interaction = NewInteraction.from_image(image)
    settings = get_settings()
    keys = load_provider_keys(settings)
    similarity, state = similarity_to_earlier(interaction, settings, keys, remaining_s)
    if similarity >= settings.similarity_threshold:
        if state is not None and state.score == -1:  # rated down already: never a training example
            metrics.add_metric(name="TrainingExamplesRatedDown", unit=MetricUnit.Count, value=1)
            logger.info("repeated prompt rated down: no training example", extra={"sk": interaction.sk})
        else:
            queue_example(interaction, similarity, settings, keys)
    return similarity
