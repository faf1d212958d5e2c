"""A provider's answer as a stream, guarded as the chain guards a whole answer (`gateway.resilience.chain.open_stream`
opens it).

The chain walks its providers as for a whole answer, except that an attempt succeeds when the provider's stream
yields its first piece of content: every failure before that (a timeout, 429, 5xx, a dropped connection, an open
circuit, the spend cap) retries and falls back exactly as a buffered request does. From the first piece on, the
answer belongs to that provider: a failure, a silence past the provider's timeout or the request's deadline, or a
connection that drops ends the stream with `StreamInterruptedError`, never as if it were complete. When the stream
ends (whole, failed, or given up by its reader), its attempt is recorded, the breaker told and the spend settled:
from the usage the provider streamed, else at the reservation.

Each provider stream is read by a task of its own into a queue (`_Pump`): the SDK's generator and its connection
stay in one task from the first piece to the last, and the reader can wait with a timeout (the deadline, a keep-alive
tick) without cancelling a read.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gateway.core.errors import StreamInterruptedError
from gateway.providers.base import (
    Delta,
    Generation,
    GenerationRequest,
    Outcome,
    Provider,
    ProviderError,
    ProviderSpec,
    ToolCall,
)
from gateway.resilience.breaker import Admission
from gateway.resilience.spend import Reservation

if TYPE_CHECKING:
    from gateway.resilience.attempts import Attempt
    from gateway.resilience.chain import StreamingRun


class _Pump:
    """A provider's stream, read by its own task into a queue (None: the stream ended; an exception: it failed)."""

    def __init__(self, pieces: AsyncIterator[Delta]) -> None:
        self._queue: asyncio.Queue[Delta | Exception | None] = asyncio.Queue()
        self._task = asyncio.ensure_future(self._run(pieces))

    async def _run(self, pieces: AsyncIterator[Delta]) -> None:
        try:
            async for piece in pieces:
                self._queue.put_nowait(piece)
        except Exception as exc:
            self._queue.put_nowait(exc)
        else:
            self._queue.put_nowait(None)
        finally:
            with contextlib.suppress(Exception):
                await pieces.aclose()  # type: ignore[attr-defined]  # an async generator's; closes its connection

    async def next(self, timeout: float | None) -> Delta | None:
        """The next piece (None at the end); TimeoutError when none came within `timeout`, the provider's error."""
        if self._queue.empty():
            async with asyncio.timeout(timeout):
                item = await self._queue.get()
        else:
            item = self._queue.get_nowait()
        if isinstance(item, Exception):
            raise item
        return item

    def more_text(self) -> str:
        """The text of the pieces of plain text that have already arrived, taken (they go out with the piece at hand:
        one event for what came together, not one each)."""
        texts = []
        while not self._queue.empty():
            item = self._queue._queue[0]  # type: ignore[attr-defined]  # asyncio.Queue's deque: a peek, no await
            if not isinstance(item, Delta) or item.tool_calls or item.finish_reason or item.usage is not None:
                break
            texts.append(self._queue.get_nowait().text)  # type: ignore[union-attr]
        return "".join(texts)

    async def close(self) -> None:
        """Stop reading (the provider's connection is closed) and wait for the reader to end."""
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


@dataclass
class OpenedStream:
    """A provider stream whose first piece of content has come: the pieces read so far, and the rest to read."""

    first: list[Delta]
    pump: _Pump


async def open_provider_stream(provider: Provider, request: GenerationRequest) -> OpenedStream:
    """Start the provider's stream and read it up to its first piece of content (the chain bounds the wait)."""
    pump = _Pump(provider.stream(request))
    first: list[Delta] = []
    try:
        while not first or not (first[-1].has_content or first[-1].finish_reason):
            piece = await pump.next(None)
            if piece is None:
                raise ProviderError(Outcome.EMPTY_RESPONSE, "the stream ended before any content")
            first.append(piece)
    except BaseException:
        await pump.close()
        raise
    return OpenedStream(first, pump)


class ChainStream:
    """The answer of the provider that streamed first, piece by piece (`pieces`); `generation` once it is whole."""

    def __init__(
        self,
        run: StreamingRun,
        spec: ProviderSpec,
        opened: OpenedStream,
        reservation: Reservation | None,
        admission: Admission,
        started: float,
    ) -> None:
        self.spec = spec
        self.generation: Generation | None = None
        self._run, self._opened, self._reservation = run, opened, reservation
        self._admission, self._started = admission, started
        self._over = False

    @property
    def attempts(self) -> list[Attempt]:
        """The attempts so far (this provider's own is added when its stream ends)."""
        return self._run.attempts

    @property
    def fallback_used(self) -> bool:
        """Whether another provider or model answered than the first one tried (a retry is not a fallback)."""
        first = self.attempts[0] if self.attempts else None
        return first is not None and (first.provider, first.model) != (self.spec.name, self.spec.model)

    async def pieces(self, keepalive_s: float | None = None) -> AsyncGenerator[Delta | None]:
        """The answer's pieces in order, then the end (`generation` set); None every `keepalive_s` the provider is
        silent. StreamInterruptedError when the provider fails, stays silent past its timeout or the deadline, or
        drops the connection after the first piece."""
        text: list[str] = []
        calls: list[ToolCall] = []
        last = Delta()
        try:
            for opening in self._opened.first:
                text.append(opening.text)
                calls.extend(opening.tool_calls)
                last = opening
                yield opening
            silent = 0.0
            while True:
                timeout_s = self.spec.timeout_ms / 1000
                limit = min(self._run.deadline.remaining(), timeout_s)
                tick = limit - silent if keepalive_s is None else min(limit - silent, keepalive_s)
                started = time.perf_counter()
                try:
                    piece = await self._opened.pump.next(max(0.0, tick))
                except TimeoutError:
                    silent += time.perf_counter() - started
                    if silent < limit:
                        yield None  # a keep-alive: the provider is silent, not yet for too long
                        continue
                    message = f"the stream was silent for {limit:.2f} s after it began"
                    # A silence cut by the deadline says nothing of the provider's health.
                    await self._fail(ProviderError(Outcome.TIMEOUT, message), tell_breaker=limit >= timeout_s)
                    raise self._interrupted(message) from None
                silent = 0.0
                if piece is None:
                    break
                if piece.text and not (piece.tool_calls or piece.finish_reason):
                    piece = Delta(piece.text + self._opened.pump.more_text())
                text.append(piece.text)
                calls.extend(piece.tool_calls)
                last = piece if piece.finish_reason else last
                yield piece
        except ProviderError as failure:
            await self._fail(failure)
            raise self._interrupted(str(failure)) from None
        except StreamInterruptedError:
            raise
        except BaseException:
            await self._give_up()
            raise
        usage = last.usage or Generation("", 0, 0, usage_reported=False)
        self.generation = Generation(
            "".join(text), usage.input_tokens, usage.output_tokens, usage.usage_reported, tuple(calls),
            last.finish_reason or "stop",
        )  # fmt: skip
        self._over = True
        await self._opened.pump.close()
        await self._run.stream_ended(self.spec, self.generation, self._reservation, self._started, self._admission)

    async def aclose(self) -> None:
        """Give the stream up before its end (its reader has gone): nothing more is read; settled as unknown."""
        await self._give_up()

    def _interrupted(self, why: str) -> StreamInterruptedError:
        message = f"{self.spec.name} failed after its answer began ({why}): the answer is incomplete"
        return StreamInterruptedError(message, details={"attempts": [a.as_dict() for a in self.attempts]})

    async def _fail(self, failure: ProviderError, tell_breaker: bool = True) -> None:
        self._over = True
        await self._opened.pump.close()
        await self._run.stream_failed(
            self.spec, failure, self._reservation, self._started, self._admission, tell_breaker=tell_breaker
        )

    async def _give_up(self) -> None:
        if self._over:
            return
        self._over = True
        await self._opened.pump.close()
        await self._run.stream_abandoned(self.spec, self._reservation, self._started, self._admission)
