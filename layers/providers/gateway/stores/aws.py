"""The one place the layer makes boto3 clients: one per service per process, made on first use.

boto3 (and botocore) are imported here, lazily, so a request that touches no AWS service, such as
`GET /health`, never pays for them, and a function builds one DynamoDB resource however many tables
it uses (each resource or client loads its service model: tens of milliseconds at a cold start).
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBServiceResource
    from mypy_boto3_dynamodb.service_resource import Table
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient


@lru_cache(maxsize=1)
def _dynamodb() -> DynamoDBServiceResource:
    import boto3

    return boto3.resource("dynamodb")


@lru_cache(maxsize=32)
def dynamodb_table(name: str) -> Table:
    return _dynamodb().Table(name)


@lru_cache(maxsize=1)
def sqs_client() -> SQSClient:
    import boto3

    return boto3.client("sqs")


@lru_cache(maxsize=1)
def s3_client() -> S3Client:
    import boto3

    return boto3.client("s3")


def is_conditional_failure(exc: BaseException) -> bool:
    """Whether a DynamoDB write was refused by its condition (without importing botocore to ask)."""
    response = getattr(exc, "response", None)
    code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
    return code in ("ConditionalCheckFailedException", "TransactionCanceledException")


def clear_clients() -> None:
    """Forget every client (tests that start a new moto backend call this)."""
    for cached in (_dynamodb, dynamodb_table, sqs_client, s3_client):
        cached.cache_clear()
