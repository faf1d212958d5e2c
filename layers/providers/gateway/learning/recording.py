"""Every answered route is stored, after the answer is known, in one write that never fails the request.

Only the write happens on the request, in the same round trip as the route's cache entry (`interaction_put`, one
write of a batch: `gateway.stores.batch`): the repetition detector (`gateway.learning.repetition`) reads the new
item from the table's stream, embeds the prompt and compares it with the topic's earlier ones, off the response
path. The prompt is stored redacted, as it leaves the request.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from aws_lambda_powertools.metrics import MetricUnit

from gateway.analysis.redaction import Redactor
from gateway.config.context import RequestContext
from gateway.observability import logger, metrics
from gateway.stores.batch import Put, put_all
from gateway.stores.interactions import Interaction, InteractionStore


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


def record(answered: Answered, ctx: RequestContext) -> None:
    """Store the interaction (when a table is configured); a failure is logged and counted, never raised."""
    put = interaction_put(answered, ctx)
    if put is not None:
        put_all([put])


def interaction_put(answered: Answered, ctx: RequestContext) -> Put | None:
    """The interaction as one write of a batch (`gateway.stores.batch.put_all`), None without a table; its failure
    is logged and counted, never raised."""
    settings = ctx.settings
    if not settings.interactions_table:
        return None
    try:
        store = InteractionStore(settings.interactions_table, settings.interaction_retention_s)
        item = store.item(_interaction(answered, ctx))
    except Exception as exc:
        _not_recorded(f"{type(exc).__name__}: {exc}")
        return None
    return Put(store.table_name, item, _not_recorded)


def _interaction(answered: Answered, ctx: RequestContext) -> Interaction:
    return Interaction(
        topic=answered.topic,
        user_id=answered.user_id,
        request_id=ctx.request_id,
        language=answered.language,
        # Training data leaves the request for SQS, S3 and maybe a public dataset: secrets and
        # personal data are redacted first, as they are before an error reaches a provider.
        prompt=Redactor(ctx.keys.values()).text(answered.prompt),
        prompt_hash=hashlib.sha256(answered.prompt.encode()).hexdigest(),
        answer=answered.answer,
        provider=answered.provider,
        model=answered.model,
        input_tokens=answered.input_tokens,
        output_tokens=answered.output_tokens,
        cost_usd=answered.cost_usd,
        cached=answered.cached,
        created_at=time.time(),
        api_key_id=ctx.api_key_id,  # only this key may rate the answer
    )


def _not_recorded(reason: str) -> None:
    logger.warning("interaction not recorded", extra={"error": reason})
    metrics.add_metric(name="InteractionsNotRecorded", unit=MetricUnit.Count, value=1)
