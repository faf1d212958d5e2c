"""The training dataset: JSONL objects in S3."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import boto3

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


@lru_cache(maxsize=1)
def _client() -> S3Client:
    return boto3.client("s3")


class DatasetStore:
    def __init__(self, bucket: str) -> None:
        self._bucket = bucket

    def put_jsonl(self, key: str, rows: list[dict[str, Any]]) -> None:
        """Write `rows` as one JSONL object (one JSON document a line) under `key`."""
        body = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode()
        _client().put_object(Bucket=self._bucket, Key=key, Body=body, ContentType="application/x-ndjson")
