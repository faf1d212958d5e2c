"""Messages to the gateway's SQS queues (route jobs, training examples), as JSON bodies."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import boto3

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


@lru_cache(maxsize=1)
def _client() -> SQSClient:
    return boto3.client("sqs")


class QueueSender:
    def __init__(self, queue_url: str) -> None:
        self._url = queue_url

    def send(self, body: dict[str, Any]) -> str:
        """Send one JSON message; returns SQS's message id."""
        return _client().send_message(QueueUrl=self._url, MessageBody=json.dumps(body))["MessageId"]
