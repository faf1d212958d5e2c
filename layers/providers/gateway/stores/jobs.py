"""Asynchronous route jobs' results, in DynamoDB, kept for a retention period."""

from __future__ import annotations

import json
import time
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import boto3

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


@lru_cache(maxsize=8)
def _table(name: str) -> Table:
    return boto3.resource("dynamodb").Table(name)


class JobStore:
    def __init__(self, table_name: str, retention_s: int) -> None:
        self._table = _table(table_name)
        self._retention_s = retention_s

    def put_result(self, job_id: str, result: dict[str, Any]) -> None:
        """Store a finished job; the result is kept as JSON text (DynamoDB has no floats)."""
        now = int(time.time())
        self._table.put_item(
            Item={
                "job_id": job_id,
                "status": "done",
                "result": json.dumps(result),
                "finished_at": now,
                "expires_at": now + self._retention_s,
            }
        )

    def get(self, job_id: str) -> dict[str, Any] | None:
        item = self._table.get_item(Key={"job_id": job_id}).get("Item")
        if item is None:
            return None
        return {"job_id": job_id, "status": item["status"], "result": json.loads(str(item["result"]))}
