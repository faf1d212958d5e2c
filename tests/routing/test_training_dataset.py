"""The training queue's consumer: examples land in the S3 dataset (moto) exactly once each."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import boto3
import httpx2
import pytest
from huggingface_hub import set_client_factory
from huggingface_hub.utils._http import default_client_factory

from dev.sqs_poller import SqsPoller
from tests.conftest import EMULATOR_KEY, Gateway, load_event

CODING_KEY = "training/topic=coding/date=2026-11-22/4f7c1d0b2a9e8f6d5c3b1a0e9d8c7b6a.jsonl"
MATH_KEY = "training/topic=math/date=2026-11-22/9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d.jsonl"


def _dataset(gateway: Gateway) -> dict[str, list[dict[str, Any]]]:
    """Every object of the dataset bucket, as its JSONL rows."""
    s3, bucket = boto3.client("s3"), gateway.resources.names["DatasetBucket"]
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    bodies = {key: s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode() for key in keys}
    return {key: [json.loads(line) for line in body.splitlines()] for key, body in bodies.items()}


def _writes(gateway: Gateway) -> int:
    """How many times any object was written (the bucket is versioned: each write is a version)."""
    versions = boto3.client("s3").list_object_versions(Bucket=gateway.resources.names["DatasetBucket"])
    return len(versions.get("Versions", []))


def _poller(gateway: Gateway) -> SqsPoller:
    return SqsPoller(gateway.resources.names["TrainingQueue"], "training_consumer")


def _send(gateway: Gateway, body: dict[str, Any]) -> None:
    boto3.client("sqs").send_message(QueueUrl=gateway.resources.names["TrainingQueue"], MessageBody=json.dumps(body))


def test_examples_are_written_as_jsonl_partitioned_by_topic_and_date(gateway: Gateway) -> None:
    # When a batch of two examples reaches the consumer
    result = gateway.invoke("training_consumer", load_event("sqs_training_examples"))
    # Then each is one JSONL object under its topic and date, in the chat format fine-tuning reads
    assert result == {"batchItemFailures": []}
    dataset = _dataset(gateway)
    assert set(dataset) == {CODING_KEY, MATH_KEY}
    (row,) = dataset[CODING_KEY]
    assert row["messages"] == [
        {"role": "user", "content": "How do I reverse a list in Python?"},
        {"role": "assistant", "content": "Use my_list.reverse() in place, or my_list[::-1] for a reversed copy."},
    ]
    assert (row["topic"], row["language"], row["source"]) == ("coding", "en", {"provider": "slm", "model": "slm"})


def test_each_example_is_written_exactly_once(gateway: Gateway) -> None:
    # Given a batch delivered twice, and one of its examples queued again on a later day
    event = load_event("sqs_training_examples")
    gateway.invoke("training_consumer", event)
    gateway.invoke("training_consumer", event)
    again = json.loads(event["Records"][0]["body"]) | {"created_at": "2026-11-23T08:00:00+00:00"}
    _send(gateway, again)
    counts = _poller(gateway).drain()
    # Then every delivery succeeds, and the dataset holds each example once, written once
    assert (counts.succeeded, counts.failed) == (1, 0)
    dataset = _dataset(gateway)
    assert set(dataset) == {CODING_KEY, MATH_KEY}
    assert all(len(rows) == 1 for rows in dataset.values())
    assert _writes(gateway) == 2


def test_a_repeated_question_reaches_the_dataset_once(gateway: Gateway) -> None:
    # Given a question asked three times (the second and third are repetitions of the first)
    for _ in range(3):
        assert gateway.call("route", load_event("route", prompt="How do I reverse a list in Python?")).status == 200
    # When the repetition detector has compared them and the training queue's consumer drains its queue
    assert gateway.detect_repetitions().succeeded == 3
    counts = _poller(gateway).drain()
    # Then the two queued examples are the same one, written once
    assert (counts.succeeded, counts.failed) == (2, 0)
    ((key, rows),) = _dataset(gateway).items()
    assert key.startswith("training/topic=coding/date=")
    assert rows[0]["messages"][0] == {"role": "user", "content": "How do I reverse a list in Python?"}
    assert _writes(gateway) == 1


def test_a_malformed_example_lands_in_the_dlq(gateway: Gateway) -> None:
    # Given a good example and a message that is not one
    good = json.loads(load_event("sqs_training_examples")["Records"][0]["body"])
    _send(gateway, {"example_id": "not-a-hash", "prompt": "?"})
    _send(gateway, good)
    # When the consumer drains the queue
    counts = _poller(gateway).drain()
    # Then the good example is written, and the bad message is dead-lettered after three receives
    assert set(_dataset(gateway)) == {CODING_KEY}
    dlq = gateway.resources.names["TrainingDeadLetterQueue"]
    dead = boto3.client("sqs").receive_message(QueueUrl=dlq, MaxNumberOfMessages=10).get("Messages", [])
    assert [json.loads(m["Body"])["example_id"] for m in dead] == ["not-a-hash"]
    assert counts.succeeded + len(dead) == 2


@pytest.fixture
def hugging_face_hub() -> Iterator[list[tuple[str, str, bytes]]]:
    """The Hub's commit API, answered in-process: (method, path, body) of each call."""
    calls: list[tuple[str, str, bytes]] = []

    def answer(request: httpx2.Request) -> httpx2.Response:
        calls.append((request.method, request.url.path, request.content))
        assert request.headers["authorization"] == f"Bearer {EMULATOR_KEY}"
        if "/preupload/" in request.url.path:
            files = json.loads(request.content)["files"]
            modes = [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False} for f in files]
            return httpx2.Response(200, json={"files": modes})
        if "/commit/" in request.url.path:
            return httpx2.Response(
                200,
                json={
                    "commitUrl": "https://huggingface.co/datasets/acme/gateway-training/commit/1",
                    "commitOid": "1" * 40,
                    "pullRequestUrl": None,
                },
            )
        return httpx2.Response(404, json={})  # e.g. the agent registry huggingface_hub asks for: none

    set_client_factory(lambda: httpx2.Client(transport=httpx2.MockTransport(answer)))
    try:
        yield calls
    finally:
        set_client_factory(default_client_factory)


def test_new_examples_are_pushed_to_the_hugging_face_dataset_repo(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch, hugging_face_hub: list[tuple[str, str, bytes]]
) -> None:
    # Given a dataset repository configured (the token is the gateway's Hugging Face key)
    monkeypatch.setenv("HF_DATASET_REPO", "acme/gateway-training")
    event = load_event("sqs_training_examples")
    # When the batch is handled, then delivered again
    assert gateway.invoke("training_consumer", event) == {"batchItemFailures": []}
    assert gateway.invoke("training_consumer", event) == {"batchItemFailures": []}
    # Then each example was committed once, as the same JSONL file as in S3
    commits = [body for method, path, body in hugging_face_hub if path.endswith("/commit/main")]
    assert len(commits) == 2
    operations = [json.loads(line) for body in commits for line in body.decode().splitlines()]
    files = {op["value"]["path"]: op["value"]["content"] for op in operations if op["key"] == "file"}
    assert set(files) == {"data/" + CODING_KEY.removeprefix("training/"), "data/" + MATH_KEY.removeprefix("training/")}
    pushed = json.loads(base64.b64decode(files["data/" + CODING_KEY.removeprefix("training/")]))
    assert pushed == _dataset(gateway)[CODING_KEY][0]
    assert all(path.startswith("/api/datasets/acme/gateway-training/") for _, path, _ in hugging_face_hub[1:])
