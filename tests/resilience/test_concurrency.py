"""Many instances, one DynamoDB: the breaker opens once and probes once; the spend cap is never overshot.

Each thread holds its own BreakerBoard or SpendGuard, as each Lambda instance does; they share only
the moto DynamoDB table provisioned from the template.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from dev.aws_stack import StackResources
from gateway.config.settings import load_settings
from gateway.core.catalogue import cost_usd
from gateway.providers.base import Generation, GenerationRequest, Outcome, ProviderSpec
from gateway.resilience.breaker import Admission, BreakerBoard, BreakerConfig
from gateway.resilience.spend import Reservation, SpendGuard, SpendRefusedError, worst_case_cost
from gateway.stores.breakers import BreakerStore
from gateway.stores.spend_ledger import SpendLedgerStore
from tests.clocks import ManualClock

INSTANCES = 16
GEMINI = ProviderSpec("gemini", "gemini-2.5-flash", "http://127.0.0.1:1", 1000, "key", configured=True)
pytestmark = pytest.mark.usefixtures("atomic_dynamodb")


def all_at_once[T](work: Callable[[int], T], n: int = INSTANCES) -> list[T]:
    """Run `work(i)` on n threads released together by a barrier."""
    barrier = threading.Barrier(n)

    def start(i: int) -> T:
        barrier.wait()
        return work(i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(start, range(n)))


class CountingStore(BreakerStore):
    """A breaker store that counts the transitions its conditional writes won."""

    opened = 0
    leases = 0
    _lock = threading.Lock()

    def open(self, key: str, open_until: float, now: float) -> bool:
        won = super().open(key, open_until, now)
        with self._lock:
            CountingStore.opened += won
        return won

    def take_probe_lease(self, key: str, now: float, lease_s: float, token: str) -> bool:
        won = super().take_probe_lease(key, now, lease_s, token)
        with self._lock:
            CountingStore.leases += won
        return won


def test_the_breaker_opens_once_and_probes_once(aws: StackResources) -> None:
    CountingStore.opened = CountingStore.leases = 0
    # A clock the test moves: the cool-down passes when the test says so, not when a loaded machine is slow
    clock = ManualClock()
    config = BreakerConfig(failure_threshold=5, cooldown_s=30.0, cache_s=0, flush_s=0)
    boards = [
        BreakerBoard(CountingStore(aws.state_table), config, clock=clock.wall, monotonic=clock.monotonic)
        for _ in range(INSTANCES)
    ]

    # Given 16 instances that each see Gemini fail at the same moment (3 failures each)
    def fail(i: int) -> None:
        for _ in range(3):
            boards[i].on_failure(GEMINI, Outcome.SERVER_ERROR, "HTTP 500", None, Admission.ALLOW)

    all_at_once(fail)
    # Then exactly one instance's write opened the breaker, and every instance now skips Gemini
    assert CountingStore.opened == 1
    for board in boards:
        board.load([GEMINI])
    assert {board.admit(GEMINI) for board in boards} == {Admission.REJECT}

    # When the cool-down has passed and all 16 ask at once
    clock.advance(31)
    for board in boards:
        board.load([GEMINI])
    admissions = all_at_once(lambda i: boards[i].admit(GEMINI))
    # Then exactly one of them is the half-open probe
    assert admissions.count(Admission.PROBE) == 1
    assert CountingStore.leases == 1
    # And its success closes the breaker for all
    prober = boards[admissions.index(Admission.PROBE)]
    prober.on_success(GEMINI, Admission.PROBE)
    other = boards[(admissions.index(Admission.PROBE) + 1) % INSTANCES]
    other.load([GEMINI])
    assert other.admit(GEMINI) is Admission.ALLOW


def test_concurrent_requests_never_overshoot_the_spend_cap(aws: StackResources) -> None:
    # Given a daily cap that fits exactly 5 worst-case Gemini calls
    request = GenerationRequest(prompt="x" * 400, max_output_tokens=1000)
    worst = worst_case_cost(GEMINI.model, request)
    settings = load_settings({"AI_DAILY_COST_LIMIT": str(worst * 5.5), "PROVIDER_STATE_TABLE": aws.state_table})
    guards = [SpendGuard(SpendLedgerStore(aws.state_table), settings) for _ in range(INSTANCES)]

    # When 16 instances reserve at once, all still in flight
    def reserve(i: int) -> Reservation | None:
        try:
            return guards[i].reserve(GEMINI, request)
        except SpendRefusedError:
            return None

    reservations = all_at_once(reserve)
    # Then exactly 5 worst cases were admitted: the cap never let a sixth in, whatever the interleaving
    admitted = [r for r in reservations if r is not None]
    assert len(admitted) == 5
    assert guards[0].today(["all"])["all"]["committed_usd"] <= worst * 5.5
    # And when they settle with their real (smaller) cost and give their leases back, the ledger holds exactly
    # what was spent
    for guard, reservation in zip(guards, reservations, strict=True):
        if reservation is not None:
            guard.settle(reservation, Generation("ok", input_tokens=100, output_tokens=200))
        guard.release()
    totals = guards[0].today(["all"])["all"]
    real = cost_usd(GEMINI.model, 100, 200) or 0.0
    assert totals["spent_usd"] == pytest.approx(real * 5)
    assert totals["committed_usd"] == pytest.approx(totals["spent_usd"])


def test_a_few_failures_among_many_successes_do_not_open_the_circuit(aws: StackResources) -> None:
    # Given a busy, mostly healthy provider: a failure, then 20 successes, then 5 more failures
    config = BreakerConfig(failure_threshold=5, failure_rate=0.5, min_requests=10, cache_s=0, flush_s=0)
    board = BreakerBoard(BreakerStore(aws.state_table), config)
    board.load([GEMINI])
    board.on_failure(GEMINI, Outcome.SERVER_ERROR, "HTTP 500", None, Admission.ALLOW)
    for _ in range(20):
        board.load([GEMINI])
        board.on_success(GEMINI, Admission.ALLOW)
    for _ in range(5):
        board.load([GEMINI])
        board.on_failure(GEMINI, Outcome.SERVER_ERROR, "HTTP 500", None, Admission.ALLOW)
    # Then 6 failures in 26 calls (23%) leave it closed
    board.load([GEMINI])
    assert board.state(GEMINI).failures == 6
    assert board.admit(GEMINI) is Admission.ALLOW
    # But when failures become the majority, it opens
    for _ in range(20):
        board.on_failure(GEMINI, Outcome.SERVER_ERROR, "HTTP 500", None, Admission.ALLOW)
    board.load([GEMINI])
    assert board.admit(GEMINI) is Admission.REJECT
