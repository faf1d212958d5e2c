"""The one event loop per thread that every synchronous entry point (Lambda handlers, queue and stream batches,
the scheduled probe) runs its async work on.

Reused across invocations, because an SDK's async HTTP client belongs to the loop it was first used on (the
provider clients are cached per loop, `gateway.providers.registry`); the local API runs each function on its own
thread, so each thread has its own loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any

_thread_loops = threading.local()


def event_loop() -> asyncio.AbstractEventLoop:
    """This thread's event loop, made on first use and set as the thread's current loop."""
    loop: asyncio.AbstractEventLoop | None = getattr(_thread_loops, "loop", None)
    if loop is None or loop.is_closed():
        loop = _thread_loops.loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    return loop


def run[T](coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion on this thread's loop (from synchronous code only)."""
    return event_loop().run_until_complete(coroutine)
