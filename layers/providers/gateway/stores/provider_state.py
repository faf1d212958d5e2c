"""Provider state shared by every Lambda instance, in DynamoDB: the last probe of each provider, and when its key was
last changed through the admin route (never the key)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from gateway.stores.aws import deserialize, dynamodb_client, dynamodb_table

PROBE_RETENTION_S = 7 * 24 * 3600


class ProbeRecord(BaseModel):
    provider: str
    model: str
    outcome: str
    latency_ms: float
    probed_at: int
    error: str | None = None


class KeyChange(BaseModel):
    provider: str
    changed_at: float
    changed_by: str


class ProviderStateStore:
    """Reads and writes provider state items keyed `probe#<provider>` and `provider-key#<provider>`."""

    def __init__(self, table_name: str) -> None:
        self._table_name = table_name

    def record_probe(self, record: ProbeRecord) -> None:
        item: dict[str, Any] = {
            "pk": f"probe#{record.provider}",
            **record.model_dump(exclude_none=True),
            "latency_ms": Decimal(str(record.latency_ms)),
            "expires_at": record.probed_at + PROBE_RETENTION_S,
        }
        dynamodb_table(self._table_name).put_item(Item=item)

    def last_probes(self, providers: Sequence[str]) -> dict[str, ProbeRecord]:
        """The last probe of each provider, in one batch read."""
        if not providers:
            return {}
        keys: Any = [{"pk": {"S": f"probe#{name}"}} for name in providers]
        # The low-level client: the route reads this on its requests (every 30 s per instance), and needs no DynamoDB
        # resource for it at a cold start.
        answer = dynamodb_client().batch_get_item(RequestItems={self._table_name: {"Keys": keys}})
        records = {}
        for item in answer.get("Responses", {}).get(self._table_name, []):
            record = ProbeRecord.model_validate({k: _plain(v) for k, v in deserialize(item).items()})
            records[record.provider] = record
        return records

    def record_key_change(self, change: KeyChange) -> None:
        """When and by whom a provider's key was last changed (kept: no expiry)."""
        item: dict[str, Any] = {"pk": f"provider-key#{change.provider}", "provider": change.provider,
                "changed_at": Decimal(f"{change.changed_at:.3f}"), "changed_by": change.changed_by}  # fmt: skip
        dynamodb_table(self._table_name).put_item(Item=item)

    def key_changes(self, providers: Sequence[str]) -> dict[str, KeyChange]:
        """The last recorded change of each provider's key, in one batch read."""
        if not providers:
            return {}
        keys = [{"pk": f"provider-key#{name}"} for name in providers]
        answer = dynamodb_table(self._table_name).meta.client.batch_get_item(
            RequestItems={self._table_name: {"Keys": keys}}
        )
        found = [
            KeyChange.model_validate({k: _plain(v) for k, v in item.items() if k != "pk"})
            for item in answer.get("Responses", {}).get(self._table_name, [])
        ]
        return {change.provider: change for change in found}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value) if value % 1 else int(value)
    return value


def now_s() -> int:
    return int(time.time())
