"""The repetition detector on the interactions table's stream: nothing lost, nothing compared twice in effect."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from dev.lambda_runtime import LocalLambdaContext
from dev.stream_poller import StreamPoller
from tests.conftest import Gateway, load_event

PROMPT = "How do I reverse a list in Python?"


def _table(gateway: Gateway) -> Any:
    return boto3.resource("dynamodb").Table(gateway.resources.names["InteractionsTable"])


def _queue(gateway: Gateway, logical_id: str) -> list[dict[str, Any]]:
    url = gateway.resources.names[logical_id]
    sqs, bodies = boto3.client("sqs"), list[dict[str, Any]]()
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        bodies.extend(json.loads(m["Body"]) for m in messages)
        sqs.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
        )
    return bodies


def test_a_record_that_keeps_failing_goes_to_the_on_failure_queue_and_the_rest_go_on(gateway: Gateway) -> None:
    # Given a question, an item in the table that is not an interaction, and the question again
    gateway.call("route", load_event("route", prompt=PROMPT))
    _table(gateway).put_item(Item={"pk": "topic#coding", "sk": "0000000000001#poison", "topic": "coding"})
    gateway.call("route", load_event("route", prompt=PROMPT))
    # When the detector reads the stream
    counts = gateway.detect_repetitions()
    # Then the bad record is retried 3 times and then named on the interactions failure queue ...
    (failure,) = _queue(gateway, "InteractionsFailureQueue")
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    table = gateway.resources.names["InteractionsTable"]
    assert f":table/{table}/stream/" in failure["DDBStreamBatchInfo"]["streamArn"]
    assert counts.invocations == 1 + 3
    # ... while the repetition after it is still found, as one example however often it was retried
    examples = _queue(gateway, "TrainingQueue")
    assert len({e["example_id"] for e in examples}) == 1
    assert counts.delivered == counts.succeeded + counts.to_destination == 3


def test_a_redelivered_record_makes_the_same_example(gateway: Gateway) -> None:
    # Given a question asked twice, compared once
    for _ in range(2):
        gateway.call("route", load_event("route", prompt=PROMPT))
    assert gateway.detect_repetitions().succeeded == 2
    (first,) = _queue(gateway, "TrainingQueue")
    # When the stream delivers both records again (Lambda's delivery is at least once)
    replay = StreamPoller(gateway.resources.names["InteractionsTable"], "training_consumer")
    assert replay.drain().succeeded == 2
    # Then the same example is queued again, which the dataset writes once (test_training_dataset.py)
    (second,) = _queue(gateway, "TrainingQueue")
    assert second["example_id"] == first["example_id"]


def test_an_interaction_that_expired_before_it_was_compared_is_skipped(gateway: Gateway) -> None:
    # Given an interaction deleted (TTL) before the detector reaches it
    gateway.call("route", load_event("route", prompt=PROMPT))
    (item,) = _table(gateway).scan()["Items"]
    _table(gateway).delete_item(Key={"pk": item["pk"], "sk": item["sk"]})
    # When the detector reads the stream
    counts = gateway.detect_repetitions()
    # Then the record succeeds and nothing is written back
    assert (counts.succeeded, counts.to_destination) == (1, 0)
    assert _table(gateway).scan()["Items"] == []


def test_settling_an_interaction_is_not_compared_again(gateway: Gateway) -> None:
    # Given an interaction compared once (settling it is a MODIFY on the stream)
    gateway.call("route", load_event("route", prompt=PROMPT))
    first = gateway.detect_repetitions()
    # Then only the INSERT reached the function, and a MODIFY handed to it directly is ignored
    assert (first.read, first.delivered) == (2, 1)
    event = {"Records": [{"eventName": "MODIFY", "eventSource": "aws:dynamodb", "dynamodb": {"SequenceNumber": "1"}}]}
    assert gateway.invoke("training_consumer", event) == {"batchItemFailures": []}


def test_without_a_training_queue_a_repetition_is_a_failure_not_a_silent_drop(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the detector misconfigured (no training queue) and a question asked twice
    monkeypatch.delenv("TRAINING_QUEUE_URL")
    for _ in range(2):
        gateway.call("route", load_event("route", prompt=PROMPT))
    # When it finds the repetition
    counts = gateway.detect_repetitions()
    # Then the record is retried and then named on the interactions failure queue
    assert counts.to_destination == 1
    assert len(_queue(gateway, "InteractionsFailureQueue")) == 1


def test_the_event_file_drives_the_detector_through_the_real_handler(gateway: Gateway) -> None:
    # Given an interaction stored before the one the stream event names (its sort key is in 2030), same prompt
    event = load_event("dynamodb_new_interaction")
    image = event["Records"][0]["dynamodb"]["NewImage"]
    gateway.call("route", load_event("route", prompt=image["prompt"]["S"]))
    assert gateway.detect_repetitions().succeeded == 1
    # When the stream delivers the new interaction (`make invoke FUNCTION=training_consumer EVENT=...`)
    result = gateway.invoke("training_consumer", event)
    # Then it is a repetition of the earlier one, queued as a training example
    assert result == {"batchItemFailures": []}
    (example,) = _queue(gateway, "TrainingQueue")
    assert (example["prompt"], example["similarity"]) == (image["prompt"]["S"], 1.0)


def test_an_interaction_embedded_when_written_is_not_compared_again(gateway: Gateway) -> None:
    # Given a new interaction as a route function older than the detector wrote it: embedded, no prompt
    event = load_event("dynamodb_new_interaction")
    image = event["Records"][0]["dynamodb"]["NewImage"]
    del image["prompt"]
    image["embedding"] = {"B": "AAAA"}
    # When the stream delivers it
    result = gateway.invoke("training_consumer", event)
    # Then it succeeds without a comparison (it was compared when written), rather than failing to the DLQ
    assert result == {"batchItemFailures": []}
    assert _queue(gateway, "TrainingQueue") == []


def test_a_record_the_invocation_has_no_time_left_for_is_retried_not_timed_out(gateway: Gateway) -> None:
    # Given a new interaction, and an invocation with about a second left (less than its writes need)
    event = load_event("dynamodb_new_interaction")
    context = LocalLambdaContext(function_name="training_consumer", timeout_s=1.0)
    # When the stream delivers it
    result = gateway.invoke("training_consumer", event, context)
    # Then the record fails at once, for Lambda to retry from it, instead of the invocation timing out
    sequence = event["Records"][0]["dynamodb"]["SequenceNumber"]
    assert result == {"batchItemFailures": [{"itemIdentifier": sequence}]}
