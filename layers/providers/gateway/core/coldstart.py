"""Loading what lives as long as the process (an SDK, botocore's service models) without the cyclic GC.

A cold start allocates a few hundred thousand objects that are never freed: modules, classes, pydantic
schemas, botocore's endpoint data and service models, a provider SDK. CPython's cyclic garbage collector
runs a full collection whenever those long-lived objects have grown by a quarter, and each one traverses
all of them: on the handle-error function's first request that was three full collections, 0.2-0.3 s,
which freed a few hundred objects (measured with `gc.callbacks`).

`loading()` pauses the collector while such a thing is loaded, then moves every object alive into the
permanent generation (`gc.freeze()`), which later collections skip: on the rest of the first request
and on every warm request after it. Reference counting still frees garbage meanwhile; only reference
cycles that are already garbage when frozen stay. So each thing is frozen once per process, the first
time it is loaded: loading it again (a test that rebuilds its clients for a new moto backend) only pauses
the collector, or every rebuild would keep the previous test's garbage alive for good.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = False
_pending: set[str] = set()  # what the current pause loads
_frozen: set[str] = set()  # what has been loaded and frozen once already


@contextmanager
def loading(what: str) -> Iterator[None]:
    """Run the body (an import, a client's construction) with the cyclic GC paused; freeze what is alive after
    the first time `what` is loaded.

    Nested and concurrent uses share one pause: the collector resumes, as it was, when the last one ends.
    """
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
        _pending.add(what)
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                if not _pending <= _frozen:
                    gc.freeze()
                    _frozen.update(_pending)
                _pending.clear()
                if _was_enabled:
                    gc.enable()
