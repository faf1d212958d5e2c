"""Messages to the gateway's SQS queues (route jobs, training examples), as JSON bodies."""

from __future__ import annotations

import json
from typing import Any

from gateway.stores.aws import sqs_client


class QueueSender:
    def __init__(self, queue_url: str) -> None:
        self._url = queue_url

    def send(self, body: dict[str, Any]) -> str:
        """Send one JSON message; returns SQS's message id."""
        return sqs_client().send_message(QueueUrl=self._url, MessageBody=json.dumps(body))["MessageId"]
