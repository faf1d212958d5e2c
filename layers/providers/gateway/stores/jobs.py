"""Asynchronous route jobs' results, in DynamoDB, kept for a retention period."""

from __future__ import annotations

import contextlib
import json
import time
from typing import Any

from gateway.stores.aws import dynamodb_table


class JobStore:
    def __init__(self, table_name: str, retention_s: int) -> None:
        self._table = dynamodb_table(table_name)
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

    def put_queued(self, job_id: str, request_id: str) -> None:
        """Record a job as queued, so that it can be looked up before it is answered."""
        now = int(time.time())
        self._table.put_item(
            Item={
                "job_id": job_id,
                "status": "queued",
                "request_id": request_id,
                "queued_at": now,
                "expires_at": now + self._retention_s,
            },
            ConditionExpression="attribute_not_exists(job_id)",
        )

    def record_failure(self, job_id: str, error: str, *, final: bool) -> None:
        """Note a failed attempt at a queued job (`failed` when no retry is left); a done job stays done."""
        now = int(time.time())
        # A job answered meanwhile (a duplicate delivery) keeps its answer, and a message that was
        # never queued through the API gets no record: the condition fails.
        with contextlib.suppress(self._table.meta.client.exceptions.ConditionalCheckFailedException):
            self._table.update_item(
                Key={"job_id": job_id},
                UpdateExpression="SET #s = :s, #e = :e, failed_at = :now, expires_at = :exp ADD attempts :one",
                ConditionExpression="attribute_exists(job_id) AND #s <> :done",
                ExpressionAttributeNames={"#s": "status", "#e": "error"},
                ExpressionAttributeValues={
                    ":s": "failed" if final else "retrying",
                    ":e": error,
                    ":now": now,
                    ":exp": now + self._retention_s,
                    ":one": 1,
                    ":done": "done",
                },
            )

    def get(self, job_id: str) -> dict[str, Any] | None:
        """The job's status, with its result when done and its last error when it failed."""
        item = self._table.get_item(Key={"job_id": job_id}).get("Item")
        if item is None or int(str(item.get("expires_at", 0))) <= time.time():
            return None
        job: dict[str, Any] = {"job_id": job_id, "status": item["status"]}
        if "result" in item:
            job["result"] = json.loads(str(item["result"]))
        if "error" in item and item["status"] != "done":
            job["error"] = str(item["error"])
        return job
