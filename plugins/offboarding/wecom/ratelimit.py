"""Client-side rate limiting per corp and WeCom API path, shared by the whole deployment when it can be.

WeCom allows 10,000 calls per minute per corp and per API (and blocks the API for a minute beyond,
errcode 45009; https://developer.work.weixin.qq.com/document/path/90454). That limit counts every
process of the deployment together, so the limiter must too:

* :class:`RedisRateLimiter` — when ``OFFBOARDING_TOKEN_CACHE_URL`` is a Redis URL (the deployment
  already shares its tokens there), every process of every worker reserves its calls in one GCRA
  schedule per corp and path, kept in Redis by a Lua script (Redis' clock, one round trip per call).
  The combined rate stays at ``calls_per_second`` (150/s = 9,000/min) plus one second's burst.
* :class:`RateLimiter` — otherwise, a token bucket per corp and path in this process, at
  ``calls_per_second`` divided by ``OFFBOARDING_WECOM_CONCURRENCY``: how many processes may call WeCom
  at the same time across the deployment (each running task is its own process: workers × worker
  concurrency, plus the triggerers). Unset means 1, right for one worker running one task at a time.

:func:`default_rate_limiter` picks one (one instance per process, shared by every client of the
process); :class:`~offboarding.wecom.client.WeComClient` uses it unless given a limiter.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlsplit

#: WeCom's limit per corp and API, calls per minute.
WECOM_CALLS_PER_MINUTE_PER_API = 10_000
#: 90 % of WeCom's limit, per second, for the whole deployment.
DEFAULT_CALLS_PER_SECOND = 150.0
URL_ENV = "OFFBOARDING_TOKEN_CACHE_URL"
CONCURRENCY_ENV = "OFFBOARDING_WECOM_CONCURRENCY"
REDIS_PREFIX = "offboarding:wecom-rate:"


@runtime_checkable
class Limiter(Protocol):
    """Blocks until a call to ``path`` of corp ``scope`` is allowed; returns the seconds waited."""

    def acquire(self, path: str, scope: str = "") -> float: ...


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


def _check_rates(calls_per_second: float, per_path: dict[str, float] | None) -> None:
    if calls_per_second <= 0:
        raise ValueError(f"calls_per_second must be positive, got {calls_per_second}")
    for path, rate in (per_path or {}).items():
        if rate <= 0:
            raise ValueError(f"per_path[{path!r}] must be a positive calls-per-second rate, got {rate}")


class RateLimiter:
    """One :class:`TokenBucket` per corp and API path in this process; ``per_path`` overrides the rate."""

    shared = False

    def __init__(
        self,
        calls_per_second: float = DEFAULT_CALLS_PER_SECOND,
        *,
        burst: float | None = None,
        per_path: dict[str, float] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        _check_rates(calls_per_second, per_path)
        self.calls_per_second = float(calls_per_second)
        self.burst = burst
        self.per_path = dict(per_path or {})
        self._sleep = sleep
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"RateLimiter({self.calls_per_second:g}/s per corp and path, this process only)"

    def _bucket(self, path: str, scope: str = "") -> TokenBucket:
        with self._lock:
            bucket = self._buckets.get((scope, path))
            if bucket is None:
                rate = self.per_path.get(path, self.calls_per_second)
                bucket = TokenBucket(rate, self.burst if self.burst is not None else max(1.0, rate))
                self._buckets[(scope, path)] = bucket
            return bucket

    def acquire(self, path: str, scope: str = "") -> float:
        """Block until a call to ``path`` (of corp ``scope``) is allowed; return the seconds waited."""
        wait = self._bucket(path, scope).reserve()
        if wait > 0:
            self._sleep(wait)
        return wait


# GCRA ("generic cell rate algorithm") with reservation, like TokenBucket.reserve: every caller takes the
# next slot of the key's schedule and is told how long to wait for it. KEYS[1] holds the theoretical
# arrival time (TAT) of the next call in microseconds of Redis' clock. ARGV: the period between calls
# and the burst tolerance, in microseconds. Returns the microseconds to wait.
_GCRA = """
if redis.replicate_commands then pcall(redis.replicate_commands) end
local period = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local tat = tonumber(redis.call('GET', KEYS[1]))
if not tat or tat < now then tat = now end
local wait = tat - tolerance - now
if wait < 0 then wait = 0 end
local next_tat = tat + period
redis.call('SET', KEYS[1], string.format('%d', next_tat), 'PX', math.floor((next_tat - now) / 1000) + 1000)
return wait
"""


class RedisRateLimiter:
    """The rate limit of a corp's API path shared by every process of the deployment through Redis.

    ``calls_per_second`` is for the whole deployment; ``burst`` calls may go at once (default: one
    second's worth). Keys are ``<prefix><corp>:<path>`` and expire once their schedule is in the past.
    """

    shared = True

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        calls_per_second: float = DEFAULT_CALLS_PER_SECOND,
        burst: float | None = None,
        per_path: dict[str, float] | None = None,
        prefix: str = REDIS_PREFIX,
        client: Any = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        _check_rates(calls_per_second, per_path)
        if burst is not None and burst < 1:
            raise ValueError(f"burst must be at least 1 call, got {burst}")
        from offboarding.wecom.redis_client import redis_from_url, where  # imports redis: only when used

        self.calls_per_second = float(calls_per_second)
        self.burst = burst
        self.per_path = dict(per_path or {})
        self.prefix = prefix
        self._redis = client if client is not None else redis_from_url(url)
        self._script = self._redis.register_script(_GCRA)
        self._sleep = sleep
        self._where = where(url)

    def __repr__(self) -> str:
        return f"RedisRateLimiter({self.calls_per_second:g}/s per corp and path, shared in {self._where})"

    def reserve(self, path: str, scope: str = "") -> float:
        """Take the next slot of ``path``'s schedule; the seconds to wait for it."""
        rate = self.per_path.get(path, self.calls_per_second)
        burst = self.burst if self.burst is not None else max(1.0, rate)
        period = 1_000_000.0 / rate
        tolerance = (burst - 1.0) * period
        wait = self._script(keys=[f"{self.prefix}{scope}:{path}"], args=[int(period), int(tolerance)])
        return int(wait) / 1_000_000.0

    def acquire(self, path: str, scope: str = "") -> float:
        """Block until a call to ``path`` (of corp ``scope``) is allowed; return the seconds waited."""
        wait = self.reserve(path, scope)
        if wait > 0:
            self._sleep(wait)
        return wait


def configured_concurrency() -> int:
    """``$OFFBOARDING_WECOM_CONCURRENCY``: processes that may call WeCom at once (default 1)."""
    raw = os.environ.get(CONCURRENCY_ENV, "").strip()
    if not raw:
        return 1
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(
            f"{CONCURRENCY_ENV}={raw!r}: must be a whole number >= 1 (how many processes of the deployment "
            "may call WeCom at the same time)"
        )
    return value


_SHARED: dict[tuple[str, int], Limiter] = {}
_SHARED_GUARD = threading.Lock()


def rate_limiter_for(url: str, concurrency: int = 1) -> Limiter:
    """The limiter for a token-cache ``url``: Redis-backed for ``redis://``/``rediss://``/``unix://``,
    else this process' share (``DEFAULT_CALLS_PER_SECOND / concurrency``). One instance per process."""
    scheme = urlsplit(url.strip()).scheme.lower()
    shared = scheme in ("redis", "rediss", "unix")
    key = (url.strip() if shared else "", 1 if shared else concurrency)
    with _SHARED_GUARD:
        limiter = _SHARED.get(key)
        if limiter is None:
            if shared:
                limiter = RedisRateLimiter(url.strip())
            else:
                limiter = RateLimiter(DEFAULT_CALLS_PER_SECOND / concurrency)
            _SHARED[key] = limiter
        return limiter


def default_rate_limiter() -> Limiter:
    """The deployment's limiter: shared in Redis with the token cache, else this process' share."""
    return rate_limiter_for(os.environ.get(URL_ENV, ""), configured_concurrency())
