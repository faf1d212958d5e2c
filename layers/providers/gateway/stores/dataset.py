"""The training dataset: JSONL objects in S3."""

from __future__ import annotations

import json
from typing import Any

from gateway.stores.aws import error_code, s3_client


class DatasetStore:
    def __init__(self, bucket: str) -> None:
        self._bucket = bucket

    def put_jsonl(self, key: str, rows: list[dict[str, Any]]) -> None:
        """Write `rows` as one JSONL object (one JSON document a line) under `key`."""
        body = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode()
        s3_client().put_object(Bucket=self._bucket, Key=key, Body=body, ContentType="application/x-ndjson")

    def get_jsonl(self, key: str) -> list[dict[str, Any]] | None:
        """The rows of the object under `key`; None when there is none."""
        try:
            body = s3_client().get_object(Bucket=self._bucket, Key=key)["Body"].read()
        except Exception as exc:
            if error_code(exc) in ("NoSuchKey", "404"):
                return None
            raise
        return [json.loads(line) for line in body.decode().splitlines() if line.strip()]

    def delete(self, key: str) -> None:
        """Remove the object under `key` (the bucket's versioning keeps what it was)."""
        s3_client().delete_object(Bucket=self._bucket, Key=key)
