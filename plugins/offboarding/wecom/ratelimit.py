"""Client-side rate limiting: a thread-safe token bucket per WeCom API path.

WeCom allows 10,000 calls per minute per corp per API; the default of 150 calls/s per path keeps one
client below that (9,000/min) so the server-side block (45009, a minute long) is never reached in normal
runs. One limiter is shared by every API group of a client (and may be shared by several clients).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

DEFAULT_CALLS_PER_SECOND = 150.0


class TokenBucket:
    """``rate`` calls per second on average, at most ``burst`` at once. ``reserve()`` says how long to wait."""

    def __init__(self, rate: float, burst: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be positive calls per second, got {rate}")
        if burst < 1:
            raise ValueError(f"burst must be at least 1 call, got {burst}")
        self.rate = float(rate)
        self.burst = float(burst)
        self._clock = clock
        self._tokens = float(burst)
        self._stamp = clock()
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Take one call's token now (going into debt if needed); return the seconds to wait before calling."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            self._tokens -= 1.0
            return 0.0 if self._tokens >= 0 else -self._tokens / self.rate


class RateLimiter:
    """One :class:`TokenBucket` per API path; ``per_path`` overrides the rate for given paths."""

    def __init__(
        self,
        calls_per_second: float = DEFAULT_CALLS_PER_SECOND,
        *,
        burst: float | None = None,
        per_path: dict[str, float] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if calls_per_second <= 0:
            raise ValueError(f"calls_per_second must be positive, got {calls_per_second}")
        for path, rate in (per_path or {}).items():
            if rate <= 0:
                raise ValueError(f"per_path[{path!r}] must be a positive calls-per-second rate, got {rate}")
        self.calls_per_second = float(calls_per_second)
        self.burst = burst
        self.per_path = dict(per_path or {})
        self._sleep = sleep
        self._buckets: dict[str, TokenBucket] = {}
        self._lock = threading.Lock()

    def _bucket(self, path: str) -> TokenBucket:
        with self._lock:
            bucket = self._buckets.get(path)
            if bucket is None:
                rate = self.per_path.get(path, self.calls_per_second)
                bucket = TokenBucket(rate, self.burst if self.burst is not None else max(1.0, rate))
                self._buckets[path] = bucket
            return bucket

    def acquire(self, path: str) -> float:
        """Block until a call to ``path`` is allowed; return the seconds waited."""
        wait = self._bucket(path).reserve()
        if wait > 0:
            self._sleep(wait)
        return wait
