"""Every answered route, in DynamoDB, kept for a retention period; read back newest first per topic.

Items are keyed `pk = topic#<topic>`, `sk = <epoch ms>#<random>`, so the recent interactions of a
topic are one Query. The prompt itself is not stored: its SHA-256 and its embedding are.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from gateway.stores.aws import dynamodb_table

if TYPE_CHECKING:
    pass


@dataclass(frozen=True)
class Interaction:
    topic: str
    user_id: str
    request_id: str
    language: str
    prompt_hash: str
    answer: str
    provider: str
    model: str
    input_tokens: int
    output_tokens: int
    cost_usd: float | None
    cached: bool
    embedder: str
    embedding: bytes
    created_at: float


@dataclass(frozen=True)
class StoredEmbedding:
    """What repetition detection reads back of an earlier interaction."""

    prompt_hash: str
    embedder: str
    embedding: bytes


class InteractionStore:
    def __init__(self, table_name: str, retention_s: int) -> None:
        self._table = dynamodb_table(table_name)
        self._retention_s = retention_s

    def put(self, interaction: Interaction) -> None:
        item: dict[str, Any] = {
            "pk": f"topic#{interaction.topic}",
            "sk": f"{int(interaction.created_at * 1000):013d}#{uuid.uuid4().hex}",  # request ids may repeat
            "topic": interaction.topic,
            "user_id": interaction.user_id,
            "request_id": interaction.request_id,
            "language": interaction.language,
            "prompt_hash": interaction.prompt_hash,
            "answer": interaction.answer,
            "provider": interaction.provider,
            "model": interaction.model,
            "input_tokens": interaction.input_tokens,
            "output_tokens": interaction.output_tokens,
            "cached": interaction.cached,
            "embedder": interaction.embedder,
            "created_at": int(interaction.created_at),
            "expires_at": int(interaction.created_at) + self._retention_s,
        }
        if interaction.embedding:
            item["embedding"] = interaction.embedding
        if interaction.cost_usd is not None:
            item["cost_usd"] = Decimal(str(interaction.cost_usd))
        self._table.put_item(Item=item)

    def recent(self, topic: str, limit: int) -> list[StoredEmbedding]:
        """The embeddings of the topic's `limit` most recent interactions that have not expired."""
        answer = self._table.query(
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": f"topic#{topic}"},
            ScanIndexForward=False,
            Limit=limit,
            ProjectionExpression="prompt_hash, embedder, embedding, expires_at",
        )
        now = time.time()
        found = []
        for item in answer.get("Items", []):
            if int(str(item.get("expires_at", 0))) <= now:
                continue  # DynamoDB deletes expired items only eventually
            raw = item.get("embedding")
            data = getattr(raw, "value", raw)  # boto3 reads binary attributes as a Binary wrapper
            if isinstance(data, bytes | bytearray):
                found.append(StoredEmbedding(str(item["prompt_hash"]), str(item["embedder"]), bytes(data)))
        return found
