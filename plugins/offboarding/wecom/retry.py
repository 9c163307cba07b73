"""When and how long to retry a WeCom call: :class:`RetryPolicy` and :func:`run_with_retries`.

Transient failures (errcode -1/6000/45033, HTTP 5xx, timeouts, dropped connections) are retried with
exponential backoff and full jitter; "system busy" (-1) at most ``busy_retries`` times as WeCom asks.
A frequency-limit block (45009) is waited out (at least ``rate_limit_block_seconds``) and retried
``rate_limit_retries`` times. Everything else is raised at once.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from offboarding.wecom.errcodes import BUSY_ERRCODE
from offboarding.wecom.errors import WeComRateLimited, WeComTransientError

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """The retry knobs of one client. ``attempts`` counts every try of a call, the first one included."""

    attempts: int = 6
    base_seconds: float = 0.5
    cap_seconds: float = 20.0
    busy_retries: int = 3
    rate_limit_block_seconds: float = 60.0
    rate_limit_retries: int = 2
    rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"RetryPolicy.attempts must be at least 1, got {self.attempts}")
        for name in ("base_seconds", "cap_seconds", "rate_limit_block_seconds"):
            if getattr(self, name) < 0:
                raise ValueError(f"RetryPolicy.{name} must not be negative, got {getattr(self, name)}")
        for name in ("busy_retries", "rate_limit_retries"):
            if getattr(self, name) < 0:
                raise ValueError(f"RetryPolicy.{name} must not be negative, got {getattr(self, name)}")

    def backoff(self, failures: int) -> float:
        """Seconds to wait after the ``failures``-th transient failure (full jitter, capped)."""
        ceiling = min(self.cap_seconds, self.base_seconds * (2 ** max(failures - 1, 0)))
        return self.rng.uniform(0.0, ceiling)


def run_with_retries(
    policy: RetryPolicy,
    call: Callable[[], T],
    *,
    sleep: Callable[[float], None],
    what: str = "WeCom call",
) -> T:
    """Run ``call`` until it succeeds or the policy gives up; re-raises the last error."""
    failures = busy = limited = 0
    while True:
        try:
            return call()
        except WeComRateLimited:
            limited += 1
            if limited > policy.rate_limit_retries:
                raise
            wait = policy.rate_limit_block_seconds
            log.warning("%s rate-limited (45009); waiting %.1fs before retry %d", what, wait, limited)
        except WeComTransientError as err:
            failures += 1
            if err.errcode == BUSY_ERRCODE:
                busy += 1
                if busy > policy.busy_retries:
                    raise
            if failures >= policy.attempts:
                raise
            wait = policy.backoff(failures)
            log.info(
                "%s failed transiently (%s); retry %d/%d in %.2fs",
                what,
                err.errcode if err.errcode is not None else f"HTTP {err.http_status or 'error'}",
                failures,
                policy.attempts - 1,
                wait,
            )
        sleep(wait)
