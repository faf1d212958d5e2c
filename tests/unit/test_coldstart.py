"""`coldstart.loading()`: the cyclic GC is paused while something long-lived loads, frozen over once per thing."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from gateway.core import coldstart


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """A clean record of what was frozen, and the freezes counted instead of done (the test process's heap stays)."""
    freezes: list[int] = []
    monkeypatch.setattr(coldstart, "_frozen", set())
    monkeypatch.setattr(gc, "freeze", lambda: freezes.append(1))
    was_enabled = gc.isenabled()
    gc.enable()
    yield freezes
    if not was_enabled:
        gc.disable()


def test_the_collector_is_paused_while_loading_and_resumes_after(fresh: list[int]) -> None:
    with coldstart.loading("an sdk"):
        assert not gc.isenabled()
    assert gc.isenabled()
    assert len(fresh) == 1


def test_each_thing_is_frozen_over_once_however_often_it_is_loaded(fresh: list[int]) -> None:
    # Given a thing loaded a first time (frozen over)
    with coldstart.loading("dynamodb"):
        pass
    # When it is loaded again, as a test that rebuilds its clients does
    with coldstart.loading("dynamodb"):
        assert not gc.isenabled()
    # Then the collector was paused again but nothing more was frozen; a new thing is
    assert len(fresh) == 1
    with coldstart.loading("sqs"):
        pass
    assert len(fresh) == 2


def test_nested_loads_share_one_pause_and_one_freeze(fresh: list[int]) -> None:
    with coldstart.loading("a provider"):
        with coldstart.loading("its client"):
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer load is still running
    assert gc.isenabled()
    assert len(fresh) == 1


def test_a_failed_load_still_resumes_the_collector(fresh: list[int]) -> None:
    with pytest.raises(RuntimeError), coldstart.loading("a broken sdk"):
        raise RuntimeError("import failed")
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off(fresh: list[int]) -> None:
    gc.disable()
    try:
        with coldstart.loading("an sdk"):
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
