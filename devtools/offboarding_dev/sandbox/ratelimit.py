"""Per-minute call limits: per corp per API path (45009), and per robot webhook key (20/min).

A limit is counted in wall-clock minutes; once over it, every call is refused until the minute ends
(WeCom: "minute-level limit → blocked 60 s").
"""

from __future__ import annotations

import threading
from collections import Counter

WEBHOOK_MESSAGES_PER_MINUTE = 20


class MinuteLimiter:
    """Counts calls per key in the current wall-clock minute."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        with self._lock:
            self._minute = -1
            self._counts: Counter[str] = Counter()

    def allow(self, key: str, now: float) -> bool:
        """Count one call for ``key``; False when it is over the limit for this minute."""
        minute = int(now // 60)
        with self._lock:
            if minute != self._minute:
                self._minute = minute
                self._counts.clear()
            self._counts[key] += 1
            return self._counts[key] <= self.per_minute
