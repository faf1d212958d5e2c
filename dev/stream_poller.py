"""A local DynamoDB Streams event-source mapping: read a (moto) table's stream, invoke the real handler.

Like Lambda's DynamoDB event source with `ReportBatchItemFailures`, a filter on `eventName`,
`MaximumRetryAttempts` and an on-failure SQS destination:
- records are read in order and handed over in batches of up to `batch_size` real stream records;
- when the handler reports a failed record (or raises), the batch is retried from that record, up to
  `max_retries` times; then a failure record naming the sequence numbers goes to the on-failure queue
  and the mapping moves on (the records themselves stay in the stream, as in AWS).
Bisecting a failed batch is not emulated: retrying from the failed record already isolates it.
Dev-only: not part of the Lambda layer.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from dev.lambda_runtime import LocalLambdaContext, invoke
from dev.polling import Poller

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient


@dataclass
class StreamCounts:
    """What the mapping has done so far."""

    read: int = 0  # stream records read, filtered out ones included
    delivered: int = 0  # records that passed the filter
    succeeded: int = 0
    to_destination: int = 0  # records given up on after the retries (named in an on-failure message)
    invocations: int = 0


class StreamPoller(Poller[StreamCounts]):
    """Follow one table's stream for one function, on demand (`poll_once`, `drain`) or on a thread (`start`)."""

    thread_name = "stream"

    def __init__(
        self,
        table_name: str,
        function: str,
        *,
        batch_size: int = 10,
        event_names: Sequence[str] = ("INSERT",),
        max_retries: int = 3,
        on_failure_queue_url: str | None = None,
        timeout_s: float = 60.0,
    ) -> None:
        super().__init__(function, StreamCounts())
        self.batch_size = batch_size
        self.event_names = set(event_names)
        self.max_retries = max_retries
        self.on_failure_queue_url = on_failure_queue_url
        self.timeout_s = timeout_s
        self.stream_arn: str = boto3.client("dynamodb").describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
        self._region = self.stream_arn.split(":")[3]
        # New botocore addresses streams by account id (<account>.streams-ddb...), which moto does not serve.
        self._streams: DynamoDBStreamsClient = boto3.client(
            "dynamodbstreams", config=Config(account_id_endpoint_mode="disabled")
        )
        shards = self._streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"].get("Shards", [])
        self._iterators: dict[str, str | None] = {
            shard["ShardId"]: self._streams.get_shard_iterator(
                StreamArn=self.stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            for shard in shards
        }

    def poll_once(self) -> int:
        """Read one batch from every shard and hand over what passes the filter; the records read."""
        read = 0
        for shard_id, iterator in list(self._iterators.items()):
            if iterator is None:
                continue
            answer = self._streams.get_records(ShardIterator=iterator, Limit=self.batch_size)
            self._iterators[shard_id] = answer.get("NextShardIterator")
            records = [self._record(r) for r in answer.get("Records", [])]
            read += len(records)
            self.counts.read += len(records)
            wanted = [r for r in records if r["eventName"] in self.event_names]
            if wanted:
                self._deliver(shard_id, wanted)
        return read

    def _deliver(self, shard_id: str, records: list[dict[str, Any]]) -> None:
        self.counts.delivered += len(records)
        pending, retries = records, 0
        while pending:
            context = LocalLambdaContext(function_name=self.function, timeout_s=self.timeout_s)
            self.counts.invocations += 1
            try:
                answer: Any = invoke(self.function, {"Records": pending}, context)
                failed = {f["itemIdentifier"] for f in (answer or {}).get("batchItemFailures", [])}
            except Exception:  # an invocation error: the whole batch is retried
                failed = {pending[0]["dynamodb"]["SequenceNumber"]}
            first_failed = next((i for i, r in enumerate(pending) if r["dynamodb"]["SequenceNumber"] in failed), None)
            if first_failed is None:
                self.counts.succeeded += len(pending)
                return
            self.counts.succeeded += first_failed  # checkpointed: Lambda resumes at the first failed record
            pending = pending[first_failed:]
            retries += 1
            if retries > self.max_retries:
                self._to_destination(shard_id, pending)
                return

    def _to_destination(self, shard_id: str, records: list[dict[str, Any]]) -> None:
        """Lambda's on-failure record for a stream batch: where the records are, not the records."""
        self.counts.to_destination += len(records)
        if not self.on_failure_queue_url:
            return
        body = {
            "requestContext": {"condition": "RetryAttemptsExhausted", "approximateInvokeCount": self.max_retries + 1},
            "DDBStreamBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": records[0]["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": records[-1]["dynamodb"]["SequenceNumber"],
                "batchSize": len(records),
                "streamArn": self.stream_arn,
            },
            "version": "1.0",
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        boto3.client("sqs").send_message(QueueUrl=self.on_failure_queue_url, MessageBody=json.dumps(body))

    def _record(self, record: Any) -> dict[str, Any]:
        """A stream record as Lambda's event source delivers it (JSON: binary values in base64)."""
        stream: dict[str, Any] = dict(record["dynamodb"])
        created = stream.get("ApproximateCreationDateTime")
        if created is not None and hasattr(created, "timestamp"):
            stream["ApproximateCreationDateTime"] = created.timestamp()
        return {
            "eventID": record["eventID"],
            "eventName": record["eventName"],
            "eventVersion": record.get("eventVersion", "1.1"),
            "eventSource": "aws:dynamodb",
            "awsRegion": self._region,
            "dynamodb": _json_ready(stream),
            "eventSourceARN": self.stream_arn,
        }


def _json_ready(value: Any) -> Any:
    """botocore's parsed attribute values back to the wire's JSON: bytes as base64 text."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, dict):
        return {key: _json_ready(item) for key, item in value.items()}
    if isinstance(value, list | set | tuple):
        return [_json_ready(item) for item in value]
    return value
