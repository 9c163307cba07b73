"""Call statistics for GET /sandbox/stats: every WeCom call, every write, every errcode, every fault."""

from __future__ import annotations

import threading
from collections import Counter, deque
from typing import Any

from offboarding_dev.sandbox.clock import iso

MAX_WRITES_KEPT = 100_000


class CallStats:
    """Counts per path and errcode; keeps the most recent writes (a write = a call that changed state)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.calls: Counter[str] = Counter()
            self.write_calls: Counter[str] = Counter()
            self.writes: deque[dict[str, Any]] = deque(maxlen=MAX_WRITES_KEPT)
            self.errors: Counter[str] = Counter()
            self.injected_faults = 0

    def record_call(self, path: str, errcode: int | None) -> None:
        """Count one WeCom call; ``errcode`` None for answers without one (downloads, injected 5xx)."""
        with self._lock:
            self.calls[path] += 1
            if errcode:
                self.errors[str(errcode)] += 1

    def record_write(self, path: str, at: float, summary: dict[str, Any]) -> None:
        with self._lock:
            self.write_calls[path] += 1
            self.writes.append({"at": iso(at), "path": path, "summary": summary})

    def record_fault(self) -> None:
        with self._lock:
            self.injected_faults += 1

    def snapshot(self, include_writes: bool = True) -> dict[str, Any]:
        with self._lock:
            return {
                "calls": dict(self.calls),
                "write_calls": dict(self.write_calls),
                "writes": list(self.writes) if include_writes else [],
                "errors": dict(self.errors),
                "injected_faults": self.injected_faults,
            }
