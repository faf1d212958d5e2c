"""A local SQS event-source mapping: receive from a (moto) queue, invoke the real handler, delete.

Like Lambda's SQS event source with `ReportBatchItemFailures`: a batch of up to `batch_size` messages
becomes one real SQS event; the messages the handler does not report in `batchItemFailures` are
deleted; the reported ones (all of them when the handler raises) are made visible again after
`retry_after_s`. Redelivery counts and the move to the dead-letter queue come from the queue's own
redrive policy, as in AWS. Dev-only: not part of the Lambda layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3

from dev.lambda_runtime import LocalLambdaContext, invoke
from dev.polling import Poller

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import DeleteMessageBatchRequestEntryTypeDef, MessageTypeDef


@dataclass
class PollCounts:
    """What the poller has done so far."""

    received: int = 0  # deliveries, redeliveries included
    succeeded: int = 0  # deleted after the handler reported success
    failed: int = 0  # reported failed (or in a batch whose invocation raised), left for redelivery
    invocations: int = 0


class SqsPoller(Poller[PollCounts]):
    """Poll one queue for one function, on demand (`poll_once`, `drain`) or on a thread (`start`)."""

    thread_name = "sqs"

    def __init__(
        self,
        queue_url: str,
        function: str,
        *,
        batch_size: int = 10,
        retry_after_s: int = 0,
        timeout_s: float = 30.0,
        region: str | None = None,
    ) -> None:
        super().__init__(function, PollCounts())
        self.queue_url = queue_url
        self.batch_size = batch_size
        self.retry_after_s = retry_after_s
        self.timeout_s = timeout_s
        self._sqs: SQSClient = boto3.client("sqs", region_name=region)
        attributes = self._sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
        self.queue_arn = attributes["Attributes"]["QueueArn"]
        self._region = self.queue_arn.split(":")[3]

    def poll_once(self, wait_s: int = 0) -> int:
        """Receive one batch and hand it to the function; the number of messages received."""
        messages = self._sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.batch_size,
            WaitTimeSeconds=wait_s,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return 0
        self.counts.received += len(messages)
        event = {"Records": [self._record(m) for m in messages]}
        context = LocalLambdaContext(function_name=self.function, timeout_s=self.timeout_s)
        self.counts.invocations += 1
        try:
            answer: Any = invoke(self.function, event, context)
            failed = {f["itemIdentifier"] for f in (answer or {}).get("batchItemFailures", [])}
        except Exception:  # an invocation error: Lambda retries the whole batch
            failed = {m["MessageId"] for m in messages}
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            entries: list[DeleteMessageBatchRequestEntryTypeDef] = [
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)
            ]
            self._sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)
        for message in messages:
            if message["MessageId"] in failed:
                self._sqs.change_message_visibility(
                    QueueUrl=self.queue_url,
                    ReceiptHandle=message["ReceiptHandle"],
                    VisibilityTimeout=self.retry_after_s,
                )
        self.counts.succeeded += len(done)
        self.counts.failed += len(messages) - len(done)
        return len(messages)

    def poll_waiting(self) -> int:
        return self.poll_once(wait_s=1)  # a long poll: SQS itself waits for a message to arrive

    def _record(self, message: MessageTypeDef) -> dict[str, Any]:
        """An SQS record as Lambda's event source delivers it."""
        attributes = message.get("MessageAttributes", {})
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": dict(message.get("Attributes", {})),
            "messageAttributes": {
                name: {
                    "stringValue": value.get("StringValue"),
                    "binaryValue": value.get("BinaryValue"),
                    "stringListValues": [],
                    "binaryListValues": [],
                    "dataType": value["DataType"],
                }
                for name, value in attributes.items()
            },
            "md5OfBody": message["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": self._region,
        }
