"""The runtime configuration in DynamoDB: a versioned record, every version kept.

Two kinds of item in the provider state table: `config#head` names the version in force (its number and document),
and `config#v#<number>` keeps every version (the document, who stored it and when, what it changed, and the version
it restored for a rollback). A new version is one transaction: the version's item (only if it does not exist) and the
head (only if it is still at the version the writer read), so two writers never both store version N, a reader never
sees a head without its version item, and a stale writer learns it (`StaleVersionError`). Neither expires.

A document holds only the settings changed at runtime, by their environment names (`AI_PRIMARY_PROVIDER`: "vllm"),
as JSON text: the environment stays the default underneath (`gateway.config.runtime`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from gateway.stores.aws import (
    TableStore,
    deserialize,
    dynamodb_client,
    error_code,
    is_conditional_failure,
    retrying,
)

HEAD_KEY = "config#head"


def version_key(version: int) -> str:
    return f"config#v#{version:09d}"


@dataclass(frozen=True)
class ConfigVersion:
    """One version of the runtime configuration (version 0: none stored yet, the environment alone)."""

    version: int
    document: Mapping[str, Any] = field(default_factory=dict)
    updated_at: float = 0.0
    updated_by: str = ""
    action: str = ""  # put, patch or rollback
    changed: Sequence[str] = ()  # the names whose value differs from the version before
    restored: int | None = None  # a rollback: the version whose document it restored


class StaleVersionError(Exception):
    """The head moved on since the writer read it: `current` is the version in force."""

    def __init__(self, current: int) -> None:
        super().__init__(f"the configuration is at version {current}")
        self.current = current


class RuntimeConfigStore(TableStore):
    def head(self) -> ConfigVersion:
        """The version in force (a strongly consistent read); version 0 when none was ever stored.

        Every function reads it on its first request: through the low-level client that the request's other calls
        use, so that a cold start builds no DynamoDB resource for it."""
        answer = dynamodb_client().get_item(
            TableName=self._table_name, Key={"pk": {"S": HEAD_KEY}}, ConsistentRead=True
        )
        item = answer.get("Item")
        return _version(deserialize(item)) if item else ConfigVersion(0)

    def version(self, number: int) -> ConfigVersion | None:
        item = self._table.get_item(Key={"pk": version_key(number)}, ConsistentRead=True).get("Item")
        return _version(item) if item else None

    def history(self, newest: int, count: int) -> list[ConfigVersion]:
        """Versions `newest`, `newest - 1`, ... (at most `count` of them), newest first, in one batch read."""
        numbers = list(range(newest, max(0, newest - count), -1))
        if not numbers:
            return []
        keys = [{"pk": version_key(number)} for number in numbers]
        client = self._table.meta.client
        answer = client.batch_get_item(RequestItems={self._table_name: {"Keys": keys, "ConsistentRead": True}})
        found = [_version(item) for item in answer.get("Responses", {}).get(self._table_name, [])]
        return sorted(found, key=lambda v: v.version, reverse=True)

    def store(self, after: int, new: ConfigVersion) -> ConfigVersion:
        """Store `new` as version `after + 1`, only while `after` is the version in force (StaleVersionError else)."""
        number = after + 1
        stored = ConfigVersion(
            number, dict(new.document), new.updated_at, new.updated_by, new.action, list(new.changed), new.restored
        )
        item = _item(stored)
        head = {**item, "pk": HEAD_KEY}
        condition = "attribute_not_exists(pk)" if after == 0 else "version = :after"
        put_head: dict[str, Any] = {"TableName": self._table_name, "Item": head, "ConditionExpression": condition}
        if after:
            put_head["ExpressionAttributeValues"] = {":after": after}
        items = [
            {"Put": {"TableName": self._table_name, "Item": {**item, "pk": version_key(number)},
                     "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Put": put_head},
        ]  # fmt: skip
        client = self._table.meta.client
        try:
            retrying(lambda: client.transact_write_items(TransactItems=items))  # type: ignore[arg-type]
        except Exception as exc:
            if is_conditional_failure(exc) or error_code(exc) == "ConditionalCheckFailedException":
                raise StaleVersionError(self.head().version) from None
            raise
        return stored


def _item(version: ConfigVersion) -> dict[str, Any]:
    item: dict[str, Any] = {
        "version": version.version,
        "document": json.dumps(dict(version.document), sort_keys=True, separators=(",", ":")),
        "updated_at": Decimal(f"{version.updated_at:.3f}"),
        "updated_by": version.updated_by,
        "action": version.action,
        "changed": list(version.changed),
    }
    if version.restored is not None:
        item["restored"] = version.restored
    return item


def _version(item: Mapping[str, Any]) -> ConfigVersion:
    document = json.loads(str(item.get("document") or "{}"))
    restored = item.get("restored")
    return ConfigVersion(
        version=int(item.get("version", 0)),
        document=document if isinstance(document, dict) else {},
        updated_at=float(item.get("updated_at", 0)),
        updated_by=str(item.get("updated_by", "")),
        action=str(item.get("action", "")),
        changed=[str(name) for name in item.get("changed") or []],
        restored=int(restored) if restored is not None else None,
    )
