"""A training example: a repeated question with the answer the gateway gave it.

Apart from the consumer in `gateway.learning.training`, so that the route function, which only queues
examples, does not import Powertools batch processing and idempotency at its cold start.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class TrainingExample(BaseModel):
    """A repeated question with the answer the gateway gave it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    example_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    topic: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    language: str = Field(min_length=2, max_length=2)
    prompt: str = Field(min_length=1)
    answer: str = Field(min_length=1)
    provider: str
    model: str
    similarity: float = Field(ge=0, le=1)
    created_at: datetime
    # The interaction it was made from (its table keys): its rating decides whether the example is written, and how.
    source_pk: str | None = Field(None, min_length=1, max_length=256)
    source_sk: str | None = Field(None, min_length=1, max_length=256)

    @classmethod
    def create(
        cls,
        *,
        topic: str,
        language: str,
        prompt: str,
        answer: str,
        provider: str,
        model: str,
        similarity: float,
        source: tuple[str, str] | None = None,
    ) -> TrainingExample:
        """An example whose id is a hash of what it teaches: the same question and answer, the same id."""
        material = "\0".join((topic, language, " ".join(prompt.split()), answer.strip()))
        return cls(
            example_id=hashlib.sha256(material.encode()).hexdigest()[:32],
            topic=topic,
            language=language,
            prompt=prompt,
            answer=answer,
            provider=provider,
            model=model,
            similarity=round(min(1.0, max(0.0, similarity)), 4),
            created_at=datetime.now(UTC),
            source_pk=source[0] if source else None,
            source_sk=source[1] if source else None,
        )

    def relative_path(self) -> str:
        return f"topic={self.topic}/date={self.created_at.astimezone(UTC):%Y-%m-%d}/{self.example_id}.jsonl"

    def row(self) -> dict[str, Any]:
        """One JSONL line, in the chat format fine-tuning tools read, with where it came from."""
        return {
            "id": self.example_id,
            "messages": [{"role": "user", "content": self.prompt}, {"role": "assistant", "content": self.answer}],
            "topic": self.topic,
            "language": self.language,
            "source": {"provider": self.provider, "model": self.model},
            "similarity": self.similarity,
            "created_at": self.created_at.isoformat(),
        }
