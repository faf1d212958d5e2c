"""What the local event-source mappings share: drain on demand, or poll on a thread until stopped.

Dev-only: not part of the Lambda layer.
"""

from __future__ import annotations

import threading
from typing import Self


class Poller[CountsT]:
    """A source polled for one function; subclasses read it in `poll_once` and keep `counts`."""

    thread_name = "poller"

    def __init__(self, function: str, counts: CountsT) -> None:
        self.function = function
        self.counts = counts
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def poll_once(self) -> int:
        """Read once and hand what was read to the function; how many messages or records were read."""
        raise NotImplementedError

    def poll_waiting(self) -> int:
        """`poll_once` for the background thread, which may wait a little for something to arrive."""
        read = self.poll_once()
        if read == 0:
            self._stop.wait(0.5)
        return read

    def drain(self, max_polls: int = 100) -> CountsT:
        """Poll until a read comes back empty."""
        for _ in range(max_polls):
            if self.poll_once() == 0:
                break
        return self.counts

    def start(self) -> Self:
        self._thread = threading.Thread(target=self._run, name=f"{self.thread_name}-{self.function}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_waiting()
            except Exception:  # keep polling, as an event source mapping does
                self._stop.wait(1)
