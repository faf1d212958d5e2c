"""Fixtures for the resilience tests: DynamoDB's per-item atomicity, which moto does not lock."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

import pytest


@pytest.fixture
def atomic_dynamodb(monkeypatch: pytest.MonkeyPatch) -> None:
    """Serialise moto's DynamoDB writes and reads, as the real service makes each one atomic.

    moto checks a condition and then writes in plain Python, so two threads can interleave between
    the two; DynamoDB cannot. Without this, a concurrency test would test moto, not the gateway.
    """
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()

    def locked(method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def call(*args: Any, **kwargs: Any) -> Any:
            with lock:
                return method(*args, **kwargs)

        return call

    for name in ("put_item", "get_item", "update_item", "delete_item", "transact_write_items", "batch_get_item"):
        monkeypatch.setattr(DynamoDBBackend, name, locked(getattr(DynamoDBBackend, name)))
