"""The cases page pauses the cyclic garbage collector while it judges every open case, and always
turns it back on (offboarding.cases_page.gc_pause)."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from offboarding.cases_page import gc_pause
from offboarding.cases_page.gc_pause import cyclic_gc_paused


@pytest.fixture(autouse=True)
def _collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if was:
        gc.enable()
    else:
        gc.disable()


def test_paused_inside_and_on_again_after_even_on_error() -> None:
    with cyclic_gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), cyclic_gc_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_overlapping_pauses_turn_it_on_when_the_last_ends() -> None:
    first, second = cyclic_gc_paused(), cyclic_gc_paused()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert not gc.isenabled()
    second.__exit__(None, None, None)
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    with cyclic_gc_paused():
        pass
    assert not gc.isenabled()


def test_pauses_from_many_threads_leave_it_on() -> None:
    barrier = threading.Barrier(8)

    def page() -> None:
        with cyclic_gc_paused():
            barrier.wait(timeout=10)

    threads = [threading.Thread(target=page) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert gc.isenabled()


def test_a_long_overlap_collects_what_was_made_meanwhile(monkeypatch: pytest.MonkeyPatch) -> None:
    collected: list[int] = []
    monkeypatch.setattr(gc_pause.gc, "collect", lambda generation=2: collected.append(generation) or 0)
    monkeypatch.setattr(gc_pause, "MAX_PAUSE_SECONDS", -1.0)
    outer = cyclic_gc_paused()
    outer.__enter__()
    with cyclic_gc_paused():
        pass
    assert collected == [1]
    outer.__exit__(None, None, None)
    assert gc.isenabled()
