"""Everything the gateway writes while a test runs, parsed: JSON log lines, EMF metric records, X-Ray datagrams.

In Lambda, stdout is the function's log stream: Powertools' Logger writes one JSON object per line and
Metrics one EMF object per flush (CloudWatch turns those into metrics). The capture reads the same lines.
"""

from __future__ import annotations

import io
import json
import logging
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from gateway.observability import logger


@dataclass
class Output:
    """What was written: `text` is every byte of it (for leak checks), the rest parsed."""

    text: str
    logs: list[dict[str, Any]] = field(default_factory=list)
    metrics: list[dict[str, Any]] = field(default_factory=list)

    def values(self, name: str, **dimensions: str) -> list[float]:
        """Every value of metric `name` in records whose dimension sets include one with exactly `dimensions`."""
        found: list[float] = []
        for record in self.metrics:
            directive = record["_aws"]["CloudWatchMetrics"][0]
            names = {m["Name"] for m in directive["Metrics"]}
            sets = [set(dims) for dims in directive["Dimensions"]]
            matches = set(dimensions) in sets and all(record.get(k) == v for k, v in dimensions.items())
            if name in names and matches:
                value = record[name]
                found.extend(value if isinstance(value, list) else [value])
        return found

    def records(self, name: str) -> list[dict[str, Any]]:
        return [r for r in self.metrics if any(m["Name"] == name for m in r["_aws"]["CloudWatchMetrics"][0]["Metrics"])]

    def messages(self, message: str) -> list[dict[str, Any]]:
        return [line for line in self.logs if line.get("message") == message]


class _EveryRecord(logging.Handler):
    """Other libraries' log records (httpx, SDKs, botocore) as they would reach a log stream, extras included."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.dumps(record.__dict__, default=str))


class Capture:
    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self._capsys = capsys
        self._stream = io.StringIO()
        self._others = _EveryRecord()

    @contextmanager
    def active(self) -> Iterator[Capture]:
        handler = logger.registered_handler
        assert isinstance(handler, logging.StreamHandler)
        previous = handler.setStream(self._stream)
        root = logging.getLogger()
        level = root.level
        root.addHandler(self._others)
        root.setLevel(logging.INFO)
        try:
            yield self
        finally:
            root.removeHandler(self._others)
            root.setLevel(level)
            handler.setStream(previous)

    def read(self) -> Output:
        """What was written since the last read."""
        printed = self._capsys.readouterr()
        logged = self._stream.getvalue()
        self._stream.seek(0)
        self._stream.truncate()
        others = "\n".join(self._others.lines)
        self._others.lines.clear()
        output = Output(text="\n".join((printed.out, printed.err, logged, others)))
        for line in (printed.out + "\n" + logged).splitlines():
            if line.startswith("{"):
                parsed = json.loads(line)
                (output.metrics if "_aws" in parsed else output.logs).append(parsed)
        return output


class XRayDaemon:
    """A UDP socket standing in for the Lambda's X-Ray daemon: the subsegments the gateway sends."""

    def __init__(self) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.settimeout(0.5)
        self.address = f"127.0.0.1:{self._socket.getsockname()[1]}"

    def documents(self) -> list[dict[str, Any]]:
        """Every segment document received so far, each checked for the daemon's header."""
        found = []
        self._socket.setblocking(False)
        while True:
            try:
                datagram = self._socket.recv(65536)
            except BlockingIOError:
                break
            header, _, body = datagram.partition(b"\n")
            assert json.loads(header) == {"format": "json", "version": 1}
            found.append(json.loads(body))
        return found

    def close(self) -> None:
        self._socket.close()
