"""The training dataset: JSONL objects in S3."""

from __future__ import annotations

import json
from typing import Any

from gateway.stores.aws import s3_client


class DatasetStore:
    def __init__(self, bucket: str) -> None:
        self._bucket = bucket

    def put_jsonl(self, key: str, rows: list[dict[str, Any]]) -> None:
        """Write `rows` as one JSONL object (one JSON document a line) under `key`."""
        body = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode()
        s3_client().put_object(Bucket=self._bucket, Key=key, Body=body, ContentType="application/x-ndjson")
