"""Messages to the gateway's SQS queues (route jobs, training examples), as JSON bodies."""

from __future__ import annotations

import json
from typing import Any

from gateway.stores.aws import sqs_client


class QueueSender:
    def __init__(self, queue_url: str) -> None:
        self._url = queue_url

    def send(self, body: dict[str, Any], attributes: dict[str, str] | None = None) -> str:
        """Send one JSON message, with string message attributes beside its body; returns SQS's message id."""
        extra: dict[str, Any] = {}
        if attributes:
            extra["MessageAttributes"] = {
                name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()
            }
        return sqs_client().send_message(QueueUrl=self._url, MessageBody=json.dumps(body), **extra)["MessageId"]
