"""The fallback chain: try each configured provider in order within the request's deadline, for a whole answer
(`run_chain`) or a stream (`open_stream`: the same walk, its attempt succeeding at the stream's first piece)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Literal, Protocol

from aws_lambda_powertools.metrics import MetricUnit

from gateway.analysis.redaction import scrub
from gateway.config.settings import get_settings
from gateway.core.deadline import Deadline
from gateway.core.errors import (
    AllProvidersFailedError,
    DeadlineExceededError,
    GatewayError,
    NoProviderConfiguredError,
    ProvidersUnavailableError,
    SpendCapReachedError,
    short,
)
from gateway.observability import logger, metrics
from gateway.providers.base import Generation, GenerationRequest, Outcome, ProviderError, ProviderSpec
from gateway.providers.registry import get_provider
from gateway.resilience.attempts import Attempt, ChainResult, observe_attempt
from gateway.resilience.breaker import Admission
from gateway.resilience.guards import Resilience, resilience_for
from gateway.resilience.key_budget_error import key_budget_exhausted
from gateway.resilience.retry import RETRYABLE
from gateway.resilience.spend import KeyBudgetRefusedError, LedgerUnavailableError, Reservation, SpendRefusedError
from gateway.resilience.streaming import ChainStream, OpenedStream, open_provider_stream


async def run_chain[T](
    specs: Sequence[ProviderSpec],
    request: GenerationRequest,
    parse: Callable[[str], T],
    deadline: Deadline,
    *,
    secrets: Sequence[str] = (),
    resilience: Resilience | None = None,
) -> ChainResult[T]:
    """Ask each provider in turn, within the deadline; the first answer that `parse` accepts wins.

    Each provider is skipped while its shared circuit is open or the spend cap holds it back, and
    retried on transient failures (backoff with jitter, or its Retry-After). `parse` raises
    OutputRejectedError (or ValueError) for an answer that must not be passed on; that attempt
    fails and the next provider is tried. `secrets` are scrubbed from every error message.
    """
    if not specs:
        raise NoProviderConfiguredError("no provider in this endpoint's chain is configured")
    run = _ChainRun(resilience or resilience_for(get_settings()), deadline, secrets)
    try:
        result = await run.through(specs, request, parse)
    finally:
        await run.flush()
    assert isinstance(result, ChainResult)
    return result


async def open_stream(
    specs: Sequence[ProviderSpec],
    request: GenerationRequest,
    deadline: Deadline,
    *,
    secrets: Sequence[str] = (),
    resilience: Resilience | None = None,
) -> ChainStream:
    """The stream of the first provider that yields a first piece of content within the deadline.

    Every failure before that piece is retried and falls back as `run_chain`'s are; when no provider streams, the
    same GatewayError is raised. The stream's own attempt is recorded, the breaker told and the spend settled when
    the stream ends (`gateway.resilience.streaming`).
    """
    if not specs:
        raise NoProviderConfiguredError("no provider in this endpoint's chain is configured")
    run = _ChainRun(resilience or resilience_for(get_settings()), deadline, secrets, streams=True)
    try:
        opened = await run.through(specs, request, _unparsed)
    except BaseException:
        await run.flush()
        raise
    assert isinstance(opened, ChainStream)
    return opened


def _unparsed(text: str) -> str:
    return text


class StreamingRun(Protocol):
    """What a stream tells the chain run that opened it when it ends (`gateway.resilience.streaming`)."""

    deadline: Deadline
    attempts: list[Attempt]

    async def stream_ended(
        self, spec: ProviderSpec, generation: Generation, reservation: Reservation | None, started: float,
        admission: Admission,
    ) -> None: ...  # fmt: skip

    async def stream_failed(
        self, spec: ProviderSpec, failure: ProviderError, reservation: Reservation | None, started: float,
        admission: Admission, *, tell_breaker: bool,
    ) -> None: ...  # fmt: skip

    async def stream_abandoned(
        self, spec: ProviderSpec, reservation: Reservation | None, started: float, admission: Admission
    ) -> None: ...


class _ChainRun:
    """One request's walk down the chain, and the state writes it leaves to finish in the background."""

    def __init__(
        self, resilience: Resilience, deadline: Deadline, secrets: Sequence[str], streams: bool = False
    ) -> None:
        self.guards = resilience
        self.deadline = deadline
        self.secrets = secrets
        self.streams = streams
        self.attempts: list[Attempt] = []
        self.out_of_time = False
        self.key_refusal: KeyBudgetRefusedError | None = None
        self._pending: list[asyncio.Future[None]] = []
        self._settling: list[asyncio.Future[None]] = []

    async def through(
        self, specs: Sequence[ProviderSpec], request: GenerationRequest, parse: Callable[[str], Any]
    ) -> ChainResult[Any] | ChainStream:
        if self.guards.breakers is not None:
            self._guarded("read the circuits", self.guards.breakers.load, specs)  # the request's one batch read
        for spec in specs:
            result = await self._try(spec, request, parse)
            if result is not None:
                if result.fallback_used:
                    metrics.add_metric(name="Fallbacks", unit=MetricUnit.Count, value=1)
                return result
        raise self._failure()

    async def _try(
        self, spec: ProviderSpec, request: GenerationRequest, parse: Callable[[str], Any]
    ) -> ChainResult[Any] | ChainStream | None:
        """One provider: admitted by its circuit and the spend cap, then called and retried as needed."""
        board = self.guards.breakers
        admission = self._guarded("check the circuit", board.admit, spec) if board is not None else None
        if admission is Admission.REJECT:
            self._record(spec, Outcome.CIRCUIT_OPEN, None, "circuit open: skipped without a call")
            return None
        admission = admission or Admission.ALLOW  # an unreadable circuit fails open
        for number in range(1, self.guards.retry.max_attempts + 1):
            provider = None
            if self.deadline.remaining() >= self.guards.retry.min_attempt_s:
                provider = get_provider(spec)  # built, its SDK imported, before the attempt's budget is cut
            budget = min(spec.timeout_ms / 1000, self.deadline.remaining())
            if provider is None or budget < self.guards.retry.min_attempt_s:
                self.out_of_time = True
                self._record(spec, Outcome.SKIPPED_DEADLINE, None, "not enough time left for an attempt")
                return None
            # Each attempt holds its own worst case and settles its own bill: a retried call is billed twice.
            reservation = await self._reserve(spec, request)
            if reservation is False:
                return None
            billed: Generation | None = None
            unknown_bill = settles_later = False
            started = time.perf_counter()
            try:
                call: Awaitable[Generation | OpenedStream] = (
                    open_provider_stream(provider, request) if self.streams else provider.generate(request)
                )
                async with asyncio.timeout(budget):  # inline, unlike wait_for's task: nothing more per attempt
                    got = await call
            except TimeoutError:
                cut_by_deadline = budget < spec.timeout_ms / 1000
                self.out_of_time = self.out_of_time or cut_by_deadline
                failure = ProviderError(Outcome.TIMEOUT, f"no answer within {budget:.2f} s")
                unknown_bill = True
                # A timeout the deadline imposed says nothing of the provider's health.
                self._failed(spec, failure, started, admission, tell_breaker=not cut_by_deadline)
            except ProviderError as exc:
                failure, billed, unknown_bill = exc, exc.billed, exc.bill_unknown
                self._failed(spec, failure, started, admission)
            else:
                if isinstance(got, OpenedStream):  # the attempt goes on as the stream: settled when it ends
                    settles_later = True
                    return ChainStream(self, spec, got, reservation or None, admission, started)
                billed = got  # billed even when `parse` then rejects the answer
                return self._answered(spec, got, parse, started, admission)
            finally:
                if self.guards.spend is not None and reservation and not settles_later:
                    self._settling.append(self._later(self.guards.spend.settle, reservation, billed, unknown_bill))
            delay = None if admission is Admission.PROBE else self._retry_delay(failure, number)
            if delay is None:
                return None
            await asyncio.sleep(delay)
        return None

    async def _reserve(self, spec: ProviderSpec, request: GenerationRequest) -> Reservation | Literal[False] | None:
        """The spend cap's reservation (None without a cap); False when refused, recorded as an attempt."""
        if self.guards.spend is None:
            return None
        if self._settling:  # an earlier attempt's settle releases room this one may need
            await asyncio.gather(*self._settling, return_exceptions=True)
            self._settling.clear()
        try:
            return self.guards.spend.reserve(spec, request)
        except KeyBudgetRefusedError as exc:
            self.key_refusal = exc
            self._record(spec, Outcome.KEY_BUDGET_EXHAUSTED, None, str(exc))
        except SpendRefusedError as exc:
            self._record(spec, Outcome.BUDGET_EXCEEDED, None, str(exc))
        except LedgerUnavailableError as exc:  # a cap that cannot be checked holds the call back; it is no cap
            self._record(spec, Outcome.LEDGER_UNAVAILABLE, None, str(exc))
        except Exception as exc:
            logger.error("spend ledger unavailable", extra={"error": f"{type(exc).__name__}: {exc}"})
            self._record(spec, Outcome.LEDGER_UNAVAILABLE, None, "the spend ledger is unavailable")
        return False

    def _answered(
        self,
        spec: ProviderSpec,
        generation: Generation,
        parse: Callable[[str], Any],
        started: float,
        admission: Admission,
    ) -> ChainResult[Any] | None:
        board = self.guards.breakers
        if board is not None and board.reports_success(spec, admission):  # healthy, even if the answer is rejected
            self._later(board.on_success, spec, admission)
        try:
            value = parse(generation.text)
        except ValueError as exc:
            self._record(spec, Outcome.INVALID_OUTPUT, started, short(exc), generation=generation)
            return None
        self._record(spec, Outcome.OK, started, generation=generation)
        return ChainResult(value, generation, spec, list(self.attempts))

    def _failed(
        self,
        spec: ProviderSpec,
        failure: ProviderError,
        started: float,
        admission: Admission,
        tell_breaker: bool = True,
    ) -> None:
        self._record(spec, failure.outcome, started, failure.message, generation=failure.billed)
        board = self.guards.breakers
        if board is not None and tell_breaker:
            error = scrub(failure.message, self.secrets)
            self._later(board.on_failure, spec, failure.outcome, error, failure.retry_after_s, admission)

    async def stream_ended(
        self, spec: ProviderSpec, generation: Generation, reservation: Reservation | None, started: float,
        admission: Admission,
    ) -> None:  # fmt: skip
        """A stream came whole: the provider is healthy, its usage is billed, its attempt is `ok`."""
        if self.guards.breakers is not None:
            self._later(self.guards.breakers.on_success, spec, admission)
        self._record(spec, Outcome.OK, started, generation=generation)
        await self._settle_stream(reservation, generation, unknown=not generation.usage_reported)

    async def stream_failed(
        self, spec: ProviderSpec, failure: ProviderError, reservation: Reservation | None, started: float,
        admission: Admission, *, tell_breaker: bool,
    ) -> None:  # fmt: skip
        """A stream failed after its first piece: told to the breaker (unless the deadline cut it), settled from the
        usage the failure reports, else at the reservation (what was streamed may well be billed)."""
        self._failed(spec, failure, started, admission, tell_breaker=tell_breaker)
        await self._settle_stream(reservation, failure.billed, unknown=failure.billed is None)

    async def stream_abandoned(
        self, spec: ProviderSpec, reservation: Reservation | None, started: float, admission: Admission
    ) -> None:
        """The stream's reader left before its end: the provider was answering (healthy); billed unknown."""
        if self.guards.breakers is not None:
            self._later(self.guards.breakers.on_success, spec, admission)
        self._record(spec, Outcome.OK, started, "the client left before the answer's end")
        await self._settle_stream(reservation, None, unknown=True)

    async def _settle_stream(self, reservation: Reservation | None, billed: Generation | None, unknown: bool) -> None:
        if self.guards.spend is not None and reservation:
            self._settling.append(self._later(self.guards.spend.settle, reservation, billed, unknown))
        await self.flush()

    def _guarded[R](self, what: str, call: Callable[..., R], *args: Any) -> R | None:
        """A read of shared state that must not take the request down: on failure, log and go on."""
        try:
            return call(*args)
        except Exception as exc:
            logger.error(f"could not {what}", extra={"error": f"{type(exc).__name__}: {exc}"})
            return None

    def _retry_delay(self, failure: ProviderError, number: int) -> float | None:
        """How long to wait before retrying this provider, or None to move on to the next one."""
        retry = self.guards.retry
        if failure.outcome not in RETRYABLE or number >= retry.max_attempts:
            return None
        if failure.retry_after_s is not None:
            wait = failure.retry_after_s
            if wait > retry.max_delay_s or wait + retry.min_attempt_s > self.deadline.remaining():
                self._amend_last(f"; Retry-After {wait:g} s does not fit, provider skipped")
                return None
            return wait
        delay = retry.backoff(number)
        return delay if delay + retry.min_attempt_s <= self.deadline.remaining() else None

    def _failure(self) -> GatewayError:
        details = {"attempts": [a.as_dict() for a in self.attempts]}
        outcomes = {a.outcome for a in self.attempts}
        if self.out_of_time:
            return DeadlineExceededError("the request ran out of time before a provider answered", details=details)
        if self.key_refusal is not None and outcomes <= {Outcome.KEY_BUDGET_EXHAUSTED, Outcome.BUDGET_EXCEEDED}:
            return key_budget_exhausted(self.key_refusal, details)
        if outcomes == {Outcome.BUDGET_EXCEEDED}:
            message = "the daily spend cap is reached for every provider in the chain"
            return SpendCapReachedError(message, details=details)
        if outcomes <= {Outcome.BUDGET_EXCEEDED, Outcome.CIRCUIT_OPEN, Outcome.LEDGER_UNAVAILABLE}:
            return ProvidersUnavailableError("every provider in the chain is unavailable right now", details=details)
        return AllProvidersFailedError("every provider in the chain failed", details=details)

    def _record(
        self,
        spec: ProviderSpec,
        outcome: Outcome,
        started: float | None,
        error: str | None = None,
        generation: Generation | None = None,
    ) -> None:
        latency_ms = round((time.perf_counter() - started) * 1000, 2) if started is not None else 0.0
        message = scrub(error, self.secrets) if error is not None else None
        self.attempts.append(Attempt(spec.name, spec.model, outcome, latency_ms, message))
        if outcome is not Outcome.OK:
            logger.warning("provider attempt failed", extra={"attempt": self.attempts[-1].as_dict()})
        # The attempt's EMF record (provider latency, tokens, cost) and X-Ray subsegment.
        observe_attempt(self.attempts[-1], called=started is not None, generation=generation)

    def _amend_last(self, note: str) -> None:
        last = self.attempts[-1]
        self.attempts[-1] = Attempt(last.provider, last.model, last.outcome, last.latency_ms, (last.error or "") + note)

    def _later(self, call: Callable[..., None], *args: Any) -> asyncio.Future[None]:
        """Run a shared-state write on a thread, overlapping the next provider call."""
        future = asyncio.ensure_future(asyncio.to_thread(call, *args))
        self._pending.append(future)
        return future

    async def flush(self) -> None:
        """Wait for the state writes, then write what is due (breaker counts, expired leases): Lambda freezes the
        process once the answer is returned."""
        written = await asyncio.gather(*self._pending, return_exceptions=True)
        finished: list[BaseException | None] = []
        if self.guards.finish_due():  # the healthy path holds nothing: no thread to wait for
            finished = list(await asyncio.gather(asyncio.to_thread(self.guards.finish), return_exceptions=True))
        for result in [*written, *finished]:
            if isinstance(result, BaseException):
                logger.error("shared state write failed", extra={"error": f"{type(result).__name__}: {result}"})
