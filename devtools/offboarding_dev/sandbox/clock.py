"""Sandbox time: real wall-clock instants, with WeCom-side durations compressed by the time scale.

A time scale F makes every WeCom-side duration (the 24 h customer takeover, the deregistration review and
cooling-off, the "day" of a daily limit) last ``duration / F`` of wall time. Every instant the sandbox
reports is a real UTC instant, so a client can compare it with its own clock.
"""

from __future__ import annotations

import math
import time
from datetime import UTC, date, datetime, timedelta, timezone

CHINA_STANDARD_TIME = timezone(timedelta(hours=8), "Asia/Shanghai")


class SandboxClock:
    """Wall time plus the time scale; ``anchor`` is the instant sandbox time and wall time coincide."""

    def __init__(self, time_scale: float = 1.0) -> None:
        if not (time_scale >= 1.0 and math.isfinite(time_scale)):
            raise ValueError(f"time_scale must be a finite number >= 1, got {time_scale!r}")
        self.time_scale = float(time_scale)
        self.anchor = time.time()

    def now(self) -> float:
        """The current wall-clock instant as epoch seconds."""
        return time.time()

    def reanchor(self) -> None:
        """Start sandbox time afresh (used by a reset)."""
        self.anchor = time.time()

    def wall_seconds(self, wecom_seconds: float) -> float:
        """How much wall time a WeCom-side duration of ``wecom_seconds`` takes in this sandbox."""
        return wecom_seconds / self.time_scale

    def sandbox_instant(self, wall: float) -> float:
        """The sandbox-time instant (epoch seconds) corresponding to a wall instant."""
        return self.anchor + (wall - self.anchor) * self.time_scale

    def sandbox_day(self, wall: float) -> date:
        """The natural day (Asia/Shanghai) in sandbox time that a wall instant falls into."""
        return datetime.fromtimestamp(self.sandbox_instant(wall), CHINA_STANDARD_TIME).date()


def iso(instant: float | None) -> str | None:
    """An epoch instant as ISO-8601 UTC (``2025-01-01T00:00:00.000000Z``), None stays None."""
    if instant is None:
        return None
    return datetime.fromtimestamp(instant, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(text: str) -> float:
    """Parse an ISO-8601 instant with an offset (or ``Z``) into epoch seconds; naive times are refused."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"timestamp {text!r} has no UTC offset")
    return value.timestamp()


def epoch_seconds_ceil(instant: float) -> int:
    """An instant as the whole epoch second at or after it (never report a time before it happens)."""
    return math.ceil(instant)
