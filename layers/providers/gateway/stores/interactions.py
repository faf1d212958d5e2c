"""Every answered route, in DynamoDB, kept for a retention period; read back newest first per topic.

Items are keyed `pk = topic#<topic>`, `sk = <epoch ms>#<random>`, so the interactions of a topic before
a given one are one Query. The route writes an item with the redacted prompt; the repetition detector,
fed by the table's stream, then adds the prompt's embedding and removes the prompt (`settle`), so a
settled item keeps only the prompt's SHA-256 and its embedding.

An item also says which API key asked (`api_key_id`), and carries its rating once the key rates it (`rating`: -1 or
1, `rating_comment`, `rated_at`) and the dataset object made from it (`example_key`). The `by_request` index (keys
only) finds an item by its request id.
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
    api_key_id: str | None = None


@dataclass(frozen=True)
class Rated:
    """An interaction a key rated, as it was before the rating (`old_score`, `old_rated_at`) and what it is."""

    pk: str
    sk: str
    provider: str
    model: str
    old_score: int | None
    old_rated_at: float | None
    example_key: str | None


@dataclass(frozen=True)
class RatingState:
    """What the dataset must show of an interaction: its rating and the example object made from it."""

    score: int | None
    example_key: str | None


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
        if interaction.api_key_id is not None:
            item["api_key_id"] = interaction.api_key_id
        return item

    def find(self, request_id: str) -> list[tuple[str, str]]:
        """The (pk, sk) of the interactions answered under `request_id`, newest first (the index is eventually
        consistent: an interaction written a moment ago may not be there yet)."""
        answer = self._table.query(
            IndexName="by_request",
            KeyConditionExpression="request_id = :rid",
            ExpressionAttributeValues={":rid": request_id},
        )
        keys = [(str(item["pk"]), str(item["sk"])) for item in answer.get("Items", [])]
        return sorted(keys, key=lambda key: key[1], reverse=True)

    def rate(
        self, pk: str, sk: str, api_key_id: str | None, score: int, comment: str | None, rated_at: float
    ) -> Rated | None:
        """Rate the interaction, replacing an earlier rating; None when it is gone or another key's."""
        values: dict[str, Any] = {":score": score, ":at": Decimal(f"{rated_at:.3f}")}
        condition = "attribute_exists(pk) AND "
        if api_key_id is None:
            condition += "attribute_not_exists(api_key_id)"
        else:
            condition += "api_key_id = :key"
            values[":key"] = api_key_id
        update = "SET rating = :score, rated_at = :at"
        if comment:
            update += ", rating_comment = :comment"
            values[":comment"] = comment
        else:
            update += " REMOVE rating_comment"
        try:
            answer = self._table.update_item(
                Key={"pk": pk, "sk": sk}, UpdateExpression=update, ConditionExpression=condition,
                ExpressionAttributeValues=values, ReturnValues="ALL_OLD",
            )  # fmt: skip
        except Exception as exc:
            if is_conditional_failure(exc):
                return None
            raise
        old = answer.get("Attributes", {})
        return Rated(
            pk=pk, sk=sk, provider=str(old.get("provider", "")), model=str(old.get("model", "")),
            old_score=int(str(old["rating"])) if "rating" in old else None,
            old_rated_at=float(str(old["rated_at"])) if "rated_at" in old else None,
            example_key=str(old["example_key"]) if old.get("example_key") else None,
        )  # fmt: skip

    def rating_state(self, pk: str, sk: str) -> RatingState:
        key = {"pk": pk, "sk": sk}
        item = self._table.get_item(Key=key, ConsistentRead=True, ProjectionExpression="rating, example_key")
        return _state(item.get("Item") or {})

    def claim_example(self, pk: str, sk: str, example_key: str) -> RatingState | None:
        """Record the dataset object made from the interaction, unless it was rated down (None then, or when the
        interaction is gone); what it is rated now."""
        return self._update(
            Key={"pk": pk, "sk": sk},
            UpdateExpression="SET example_key = :key",
            ConditionExpression="attribute_exists(pk) AND (attribute_not_exists(rating) OR rating <> :down)",
            ExpressionAttributeValues={":key": example_key, ":down": -1},
        )

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

    def settle(self, pk: str, sk: str, embedder: str, embedding: bytes) -> RatingState | None:
        """Store the prompt's embedding and remove the prompt; None when the item is gone (expired), else its rating
        as it stands."""
        return self._update(
            Key={"pk": pk, "sk": sk},
            UpdateExpression="SET embedder = :embedder, embedding = :embedding REMOVE prompt",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":embedder": embedder, ":embedding": embedding},
        )

    def _update(self, **request: Any) -> RatingState | None:
        """A conditional update and the item's rating state after it; None when the condition refused it."""
        try:
            answer = self._table.update_item(**request, ReturnValues="ALL_NEW")
        except Exception as exc:
            if is_conditional_failure(exc):
                return None
            raise
        return _state(answer.get("Attributes", {}))


def _state(item: Mapping[str, Any]) -> RatingState:
    score, example_key = item.get("rating"), item.get("example_key")
    return RatingState(int(str(score)) if score is not None else None, str(example_key) if example_key else None)
