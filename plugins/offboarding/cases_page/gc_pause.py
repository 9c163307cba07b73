"""Pause Python's cyclic garbage collector while a request builds a page over every open case.

The summary strip judges every open case: a few objects per case (the case, its steps, its deadlines)
that live until the page is rendered and are then freed by reference counting (they hold no cycles).
Made in one burst — tens of thousands at 10,000 cases — they push the collector into a full
collection of the whole process (every module and object of the Airflow API server), which took
0.15–0.4 s of each such page only to find nothing to free. Paused while the page is built, those
objects are freed before the collector ever looks at them. Reference counting frees everything as
usual meanwhile; cyclic garbage made meanwhile (by any thread) waits for the next collection.

The collector is process-wide, so pauses are counted: it is turned back on when the last overlapping
pause ends, and only if it was on when the first began. Should overlapping pauses keep it off for
longer than :data:`MAX_PAUSE_SECONDS`, the young generations are collected when a pause ends.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

MAX_PAUSE_SECONDS = 10.0

_lock = threading.Lock()
_depth = 0
_resume = False  # whether the collector was on when the first overlapping pause began
_since = 0.0  # when the collector was last collected or paused


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Run the block with the cyclic garbage collector off (see the module docstring)."""
    global _depth, _resume, _since
    with _lock:
        if _depth == 0:
            _resume = gc.isenabled()
            _since = time.monotonic()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                if _resume:
                    gc.enable()
            elif _resume and time.monotonic() - _since > MAX_PAUSE_SECONDS:
                gc.collect(1)  # overlapping pages kept it off: collect what was made meanwhile
                _since = time.monotonic()


__all__ = ["MAX_PAUSE_SECONDS", "cyclic_gc_paused"]
