from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.observability.capture import Capture, XRayDaemon


@pytest.fixture
def captured(capsys: pytest.CaptureFixture[str]) -> Iterator[Capture]:
    with Capture(capsys).active() as capture:
        yield capture


@pytest.fixture
def xray_daemon() -> Iterator[XRayDaemon]:
    daemon = XRayDaemon()
    yield daemon
    daemon.close()
