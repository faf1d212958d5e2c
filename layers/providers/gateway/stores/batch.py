"""Items for several tables written in one round trip: DynamoDB's `BatchWriteItem` (through the low-level client:
`gateway.stores.aws.dynamodb_client`).

The route writes its answer to the cache table and its interaction to the interactions table after the provider has
answered; as two `PutItem`s that is two sequential round trips on every answer, as one batch it is one. A batch has
no conditions and no return values, which neither write needs.

A batch can be partly refused: DynamoDB writes what it can and returns the rest as `UnprocessedItems` (throttled
partition keys); those are sent again, at most `attempts` times in all. A batch refused whole (a table that does not
exist, every item throttled past botocore's retries) is written item by item, so that one table's failure does not
cost the other table its write. Each `Put` that could not be written is handed to its own `failed` callback: the
caller says what a lost write means (a cache miss later, a missed training example) and this module does not.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from gateway.stores.aws import dynamodb_client, serialize


@dataclass(frozen=True)
class Put:
    """One item for one table, and what to do when it cannot be written (called with the reason)."""

    table: str
    item: dict[str, Any]
    failed: Callable[[str], None]


MAX_ITEMS = 25  # DynamoDB's limit per BatchWriteItem


def put_all(puts: Sequence[Put], attempts: int = 3, pause_s: float = 0.02) -> None:
    """Write every item in one `BatchWriteItem` (items refused as unprocessed are sent again); never raises."""
    if not puts:
        return
    if len(puts) == 1:  # one item: a plain PutItem is the same round trip, and its error names the item
        _put_one(puts[0])
        return
    if len(puts) > MAX_ITEMS:
        raise ValueError(f"at most {MAX_ITEMS} items in one batch, not {len(puts)}")
    pending = list(puts)
    for attempt in range(1, attempts + 1):
        try:
            answer: Any = dynamodb_client().batch_write_item(RequestItems=_request(pending))
        except Exception as exc:  # refused whole: each item on its own, so one table's failure is not the other's
            if attempt > 1:
                for put in pending:
                    put.failed(f"{type(exc).__name__}: {exc}")
                return
            for put in pending:
                _put_one(put)
            return
        pending = _unprocessed(pending, answer.get("UnprocessedItems") or {})
        if not pending:
            return
        if attempt < attempts:
            time.sleep(pause_s * attempt)
    for put in pending:
        put.failed("unprocessed by BatchWriteItem (throttled)")


def _put_one(put: Put) -> None:
    try:
        dynamodb_client().put_item(TableName=put.table, Item=serialize(put.item))
    except Exception as exc:
        put.failed(f"{type(exc).__name__}: {exc}")


def _request(puts: Sequence[Put]) -> Any:
    request: dict[str, list[dict[str, Any]]] = {}
    for put in puts:
        request.setdefault(put.table, []).append({"PutRequest": {"Item": serialize(put.item)}})
    return request


def _unprocessed(puts: Sequence[Put], unprocessed: dict[str, list[dict[str, Any]]]) -> list[Put]:
    """The puts whose item DynamoDB handed back (matched by table and item: each put is one item)."""
    left = []
    for put in puts:
        returned = [entry.get("PutRequest", {}).get("Item") for entry in unprocessed.get(put.table, [])]
        if serialize(put.item) in returned:
            left.append(put)
    return left
