"""Cached answers in DynamoDB, keyed by a caller-made key, with a TTL.

DynamoDB deletes expired items only eventually, so a read also checks `expires_at` itself. Every call goes through
the low-level client (`gateway.stores.aws.dynamodb_client`): these are calls of every request, and a function whose
path uses only them never builds boto3's DynamoDB resource at its cold start.
"""

from __future__ import annotations

import json
import time
from typing import Any

from gateway.stores.aws import deserialize, dynamodb_client, serialize


class CacheStore:
    """JSON values under string keys (use a namespace prefix, e.g. `route#<sha256>`)."""

    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    def get(self, key: str) -> dict[str, Any] | None:
        """The value stored under `key`, or None when absent or expired."""
        found = dynamodb_client().get_item(TableName=self.table_name, Key={"pk": {"S": key}}).get("Item")
        item = deserialize(found) if found is not None else None
        if item is None or int(str(item["expires_at"])) <= time.time():
            return None
        value: dict[str, Any] = json.loads(str(item["value"]))
        return value

    def put(self, key: str, value: dict[str, Any], ttl_s: int) -> None:
        """Store `value` (JSON text: DynamoDB has no floats) for `ttl_s` seconds."""
        dynamodb_client().put_item(TableName=self.table_name, Item=serialize(self.item(key, value, ttl_s)))

    @staticmethod
    def item(key: str, value: dict[str, Any], ttl_s: int) -> dict[str, Any]:
        """The item `put` writes (for a batch of writes across tables: `gateway.stores.batch`)."""
        now = int(time.time())
        return {"pk": key, "value": json.dumps(value), "stored_at": now, "expires_at": now + ttl_s}
