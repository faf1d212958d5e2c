"""Fixtures for the resilience tests: DynamoDB's per-item atomicity (which in-process moto does not lock), AWS behind
the fault injector, and a clock the test controls."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from dev.aws_faults import AwsFaultInjector
from dev.emulator import ProviderEmulator
from dev.faulty_stack import FaultyStack, faulty_stack
from tests.clocks import ManualClock
from tests.conftest import Gateway


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


@pytest.fixture
def manual_clock() -> Iterator[ManualClock]:
    """The clock breakers and spend leases decide by, moved only by the test (`manual_clock.advance(s)`)."""
    from gateway.core import clock

    manual = ManualClock()
    clock.use(manual)
    yield manual
    clock.use(None)


@pytest.fixture(scope="session")
def faulty_aws(emulator: ProviderEmulator) -> Iterator[FaultyStack]:
    """The template's resources in a moto server behind the AWS fault injector (one per test worker)."""
    with faulty_stack(emulator.url) as stack:
        yield stack


@dataclass
class FaultyGateway(Gateway):
    """The gateway with AWS behind the fault injector: `injector.fail(...)`, `injector.set_capacity(...)`."""

    stack: FaultyStack | None = None

    @property
    def injector(self) -> AwsFaultInjector:
        assert self.stack is not None
        return self.stack.injector


@pytest.fixture
def faulty_gateway(
    faulty_aws: FaultyStack, emulator: ProviderEmulator, clean_env: pytest.MonkeyPatch
) -> Iterator[FaultyGateway]:
    """The gateway in local mode, as `gateway` is, but every AWS call goes through the fault injector."""
    faulty_aws.clear()
    emulator.reset()
    for name, value in faulty_aws.environment().items():
        clean_env.setenv(name, value)
    clean_env.setenv("RETRY_MAX_ATTEMPTS", "1")
    yield FaultyGateway(emulator, faulty_aws.resources, stack=faulty_aws)
    faulty_aws.injector.reset()
    emulator.reset()
