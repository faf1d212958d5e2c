from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.observability.capture import Capture

__all__ = ["Capture"]


@pytest.fixture
def captured(capsys: pytest.CaptureFixture[str]) -> Iterator[Capture]:
    with Capture(capsys).active() as capture:
        yield capture
