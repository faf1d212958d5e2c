"""Every answered route, in DynamoDB, kept for a retention period; read back newest first per topic.

Items are keyed `pk = topic#<topic>`, `sk = <epoch ms>#<random>`, so the interactions of a topic before
a given one are one Query. The route writes an item with the redacted prompt; the repetition detector,
fed by the table's stream, then adds the prompt's embedding and removes the prompt (`settle`), so a
settled item keeps only the prompt's SHA-256 and its embedding.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from gateway.stores.aws import dynamodb_table, is_conditional_failure

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


@dataclass(frozen=True)
class Interaction:
    """One answered route, as the route function writes it."""

    topic: str
    user_id: str
    request_id: str
    language: str
    prompt: str  # redacted; removed once the repetition detector has embedded it
    prompt_hash: str
    answer: str
    provider: str
    model: str
    input_tokens: int
    output_tokens: int
    cost_usd: float | None
    cached: bool
    created_at: float


@dataclass(frozen=True)
class NewInteraction:
    """What the repetition detector reads of a new item (from the stream's image of it)."""

    pk: str
    sk: str
    topic: str
    language: str
    prompt: str
    answer: str
    provider: str
    model: str

    @classmethod
    def from_image(cls, image: Mapping[str, Any]) -> NewInteraction:
        """The interaction of a stream record's new image; ValueError naming what is missing when it is not one."""
        fields = ("pk", "sk", "topic", "language", "prompt", "answer", "provider", "model")
        values = {name: image.get(name) for name in fields}
        wrong = [name for name, value in values.items() if not isinstance(value, str) or not value]
        if wrong:
            raise ValueError(f"not an interaction: no {', '.join(wrong)}")
        return cls(**values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class StoredEmbedding:
    """What repetition detection reads back of an earlier interaction."""

    embedder: str
    embedding: bytes


class InteractionStore:
    def __init__(self, table_name: str, retention_s: int) -> None:
        self.table_name = table_name
        self._retention_s = retention_s

    @property
    def _table(self) -> Table:
        return dynamodb_table(self.table_name)  # made on first use: the route's write goes in a batch (`item`)

    def put(self, interaction: Interaction) -> None:
        self._table.put_item(Item=self.item(interaction))

    def item(self, interaction: Interaction) -> dict[str, Any]:
        """The item `put` writes (for a batch of writes across tables: `gateway.stores.batch`)."""
        item: dict[str, Any] = {
            "pk": f"topic#{interaction.topic}",
            "sk": f"{int(interaction.created_at * 1000):013d}#{uuid.uuid4().hex}",  # request ids may repeat
            "topic": interaction.topic,
            "user_id": interaction.user_id,
            "request_id": interaction.request_id,
            "language": interaction.language,
            "prompt": interaction.prompt,
            "prompt_hash": interaction.prompt_hash,
            "answer": interaction.answer,
            "provider": interaction.provider,
            "model": interaction.model,
            "input_tokens": interaction.input_tokens,
            "output_tokens": interaction.output_tokens,
            "cached": interaction.cached,
            "created_at": int(interaction.created_at),
            "expires_at": int(interaction.created_at) + self._retention_s,
        }
        if interaction.cost_usd is not None:
            item["cost_usd"] = Decimal(str(interaction.cost_usd))
        return item

    def earlier(self, topic: str, before_sk: str, limit: int) -> list[StoredEmbedding]:
        """The embeddings of the topic's `limit` interactions just before `before_sk` that have not expired."""
        answer = self._table.query(
            KeyConditionExpression="pk = :pk AND sk < :sk",
            ExpressionAttributeValues={":pk": f"topic#{topic}", ":sk": before_sk},
            ScanIndexForward=False,
            Limit=limit,
            ProjectionExpression="embedder, embedding, expires_at",
            ConsistentRead=True,  # the record just before this one in the batch was settled milliseconds ago
        )
        now = time.time()
        found = []
        for item in answer.get("Items", []):
            if int(str(item.get("expires_at", 0))) <= now:
                continue  # DynamoDB deletes expired items only eventually
            raw = item.get("embedding")
            data = getattr(raw, "value", raw)  # boto3 reads binary attributes as a Binary wrapper
            if isinstance(data, bytes | bytearray):  # items not yet settled have none
                found.append(StoredEmbedding(str(item["embedder"]), bytes(data)))
        return found

    def settle(self, pk: str, sk: str, embedder: str, embedding: bytes) -> bool:
        """Store the prompt's embedding and remove the prompt; False when the item is gone (expired)."""
        try:
            self._table.update_item(
                Key={"pk": pk, "sk": sk},
                UpdateExpression="SET embedder = :embedder, embedding = :embedding REMOVE prompt",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":embedder": embedder, ":embedding": embedding},
            )
        except Exception as exc:
            if is_conditional_failure(exc):
                return False
            raise
        return True
