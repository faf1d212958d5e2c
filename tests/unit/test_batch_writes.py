"""`gateway.stores.batch.put_all`: what DynamoDB leaves unprocessed in a batch is sent again, and what it never takes
is handed to its own failure callback (botocore's Stubber answers as DynamoDB does: no server, no moto)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.stub import Stubber

from gateway.stores.aws import clear_clients, dynamodb_client, serialize
from gateway.stores.batch import Put, put_all

CACHE = {"pk": "route#abc", "value": '{"text": "hi"}', "stored_at": 1, "expires_at": 3601}
INTERACTION = {"pk": "topic#coding", "sk": "0000000000001#x", "answer": "hi", "input_tokens": 3}


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    clear_clients()
    with Stubber(dynamodb_client()) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()
    clear_clients()


def _puts(failures: list[tuple[str, str]]) -> list[Put]:
    return [
        Put("cache", CACHE, lambda reason: failures.append(("cache", reason))),
        Put("interactions", INTERACTION, lambda reason: failures.append(("interactions", reason))),
    ]


def _batch(*tables: str) -> dict[str, Any]:
    items = {"cache": CACHE, "interactions": INTERACTION}
    return {"RequestItems": {table: [{"PutRequest": {"Item": serialize(items[table])}}] for table in tables}}


def test_both_items_go_in_one_batch_and_what_is_left_unprocessed_is_sent_again(dynamodb: Stubber) -> None:
    failures: list[tuple[str, str]] = []
    # Given DynamoDB taking the cache entry but leaving the interaction unprocessed (a throttled partition key)
    unprocessed = {"interactions": [{"PutRequest": {"Item": serialize(INTERACTION)}}]}
    dynamodb.add_response("batch_write_item", {"UnprocessedItems": unprocessed}, _batch("cache", "interactions"))
    dynamodb.add_response("batch_write_item", {"UnprocessedItems": {}}, _batch("interactions"))
    # When both are written
    put_all(_puts(failures), pause_s=0)
    # Then the interaction alone was sent again, and nothing was lost
    assert failures == []


def test_an_item_never_taken_is_reported_to_its_own_callback(dynamodb: Stubber) -> None:
    failures: list[tuple[str, str]] = []
    # Given the interaction left unprocessed on every attempt
    unprocessed = {"interactions": [{"PutRequest": {"Item": serialize(INTERACTION)}}]}
    dynamodb.add_response("batch_write_item", {"UnprocessedItems": unprocessed}, _batch("cache", "interactions"))
    for _ in range(2):
        dynamodb.add_response("batch_write_item", {"UnprocessedItems": unprocessed}, _batch("interactions"))
    # When both are written
    put_all(_puts(failures), attempts=3, pause_s=0)
    # Then only the interaction is reported lost, saying why
    assert [table for table, _ in failures] == ["interactions"]
    assert "unprocessed" in failures[0][1]


def test_a_batch_refused_whole_is_written_item_by_item(dynamodb: Stubber) -> None:
    failures: list[tuple[str, str]] = []
    # Given a batch refused whole (the interactions table does not exist), the cache's own write accepted
    dynamodb.add_client_error("batch_write_item", "ResourceNotFoundException", "Requested resource not found")
    dynamodb.add_response("put_item", {}, {"TableName": "cache", "Item": serialize(CACHE)})
    dynamodb.add_client_error("put_item", "ResourceNotFoundException", "Requested resource not found")
    # When both are written
    put_all(_puts(failures), pause_s=0)
    # Then the cache entry is not lost with the interaction, which alone is reported
    assert [table for table, _ in failures] == ["interactions"]
    assert "ResourceNotFoundException" in failures[0][1]
