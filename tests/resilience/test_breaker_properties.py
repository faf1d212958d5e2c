"""The shared breaker's state machine over random interleavings of instances (Hypothesis' stateful testing).

Three instances, each its own BreakerBoard, share one DynamoDB item (moto, each call atomic as in DynamoDB) and a
clock the test moves. Hypothesis interleaves their calls at random: admitted calls finish in any order, so a call
admitted while the circuit was closed may fail or succeed long after it opened; the clock jumps; counts are
flushed or not. Whatever the interleaving:
- the circuit opens once per closed spell (`opens` counts each transition once);
- only the probe lease's holder closes it: an open circuit is never closed by a call that was not the probe;
- one probe at a time: a second probe is admitted only once the first has finished or its lease has expired.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import boto3
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from dev.aws_stack import StackResources
from gateway.providers.base import Outcome, ProviderSpec
from gateway.resilience.breaker import Admission, BreakerBoard, BreakerConfig
from gateway.stores.breakers import BreakerStore, breaker_key
from tests.clocks import ManualClock

INSTANCES = 3
COOLDOWN_S = 10.0
TIMEOUT_MS = 1000  # the probe lease lasts the call's timeout plus 1 s: 2 s
START_S = 1_800_000_000.0  # 2027-01-15, a whole number of breaker windows since the epoch
_models = itertools.count()


@dataclass
class InFlight:
    instance: int
    admission: Admission
    admitted_at: float
    lease_until: float


class SharedBreaker(RuleBasedStateMachine):
    table = ""

    def __init__(self) -> None:
        super().__init__()
        # A fixed start: the breaker's windows are whole multiples of its window from the epoch, so a start taken
        # from the system's time would put a window's end at a different step in each run of the same example.
        self.clock = ManualClock(start=START_S)
        self.spec = ProviderSpec("slm", f"model-{next(_models)}", "http://127.0.0.1:1", TIMEOUT_MS, configured=True)
        self.key = breaker_key(self.spec.name, self.spec.model)
        self.boards: list[BreakerBoard] = []
        self.in_flight: list[InFlight] = []
        self.state = "closed"
        self.transitions_to_open = 0
        self.last_action = ""

    @rule(flush_ms=st.sampled_from([0, 500]))
    @precondition(lambda self: not self.boards)
    def start(self, flush_ms: int) -> None:
        config = BreakerConfig(failure_threshold=3, min_requests=1000, cooldown_s=COOLDOWN_S, cache_s=0,
                               flush_s=flush_ms / 1000)  # fmt: skip
        self.boards = [
            BreakerBoard(BreakerStore(self.table), config, clock=self.clock.wall, monotonic=self.clock.monotonic)
            for _ in range(INSTANCES)
        ]

    @rule(instance=st.integers(0, INSTANCES - 1))
    @precondition(lambda self: bool(self.boards))
    def admit(self, instance: int) -> None:
        board = self.boards[instance]
        board.load([self.spec])
        admission = board.admit(self.spec)
        if admission is Admission.PROBE:
            now = self.clock.wall()
            live = [c for c in self.in_flight if c.admission is Admission.PROBE and c.lease_until > now]
            assert not live, "a second probe was admitted while the first one's lease was live"
        if admission is not Admission.REJECT:
            now = self.clock.wall()
            self.in_flight.append(InFlight(instance, admission, now, now + TIMEOUT_MS / 1000 + 1))
        self.last_action = f"admit {admission}"

    @rule(data=st.data(), ok=st.booleans())
    @precondition(lambda self: bool(self.in_flight))
    def finish(self, data: st.DataObject, ok: bool) -> None:
        call = self.in_flight.pop(data.draw(st.integers(0, len(self.in_flight) - 1)))
        board = self.boards[call.instance]
        if ok:
            board.on_success(self.spec, call.admission)
        else:
            board.on_failure(self.spec, Outcome.SERVER_ERROR, "HTTP 503", None, call.admission)
        self.last_action = f"{'success' if ok else 'failure'} of a {call.admission} call"

    @rule(instance=st.integers(0, INSTANCES - 1))
    @precondition(lambda self: bool(self.boards))
    def flush(self, instance: int) -> None:
        self.boards[instance].flush()
        self.last_action = "flush"

    @rule(seconds=st.sampled_from([0.3, 1.0, 2.5, COOLDOWN_S + 0.5]))
    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self.last_action = "advance"

    @invariant()
    def transitions_are_the_state_machines(self) -> None:
        item = _item(self.table, self.key)
        state = str(item.get("state", "closed"))
        if self.state == "closed" and state == "open":
            self.transitions_to_open += 1
        if self.state == "open" and state == "closed":
            assert self.last_action == f"success of a {Admission.PROBE} call", f"closed by {self.last_action}"
        assert int(item.get("opens", 0)) == self.transitions_to_open, "opened more than once in one closed spell"
        assert int(item.get("closes", 0)) <= int(item.get("probes", 0))
        self.state = state


def _item(table: str, key: str) -> dict[str, Any]:
    item: dict[str, Any] = (
        boto3.resource("dynamodb").Table(table).get_item(Key={"pk": key}, ConsistentRead=True).get("Item") or {}
    )
    return item


def test_the_breaker_state_machine_holds_over_random_interleavings(aws: StackResources, atomic_dynamodb: None) -> None:
    SharedBreaker.table = aws.state_table
    run_state_machine_as_test(
        SharedBreaker,
        settings=settings(
            max_examples=25,
            stateful_step_count=40,
            deadline=None,
            derandomize=True,  # the same interleavings on every run: a failure reproduces
            database=None,
            phases=(Phase.explicit, Phase.generate),  # no shrinking: a failure is reported at once, not minutes later
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
