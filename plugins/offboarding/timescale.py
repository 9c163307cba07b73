"""Rehearsal time: compress the waiting, never the legal answers (:class:`TimeScale`).

In a rehearsal against the WeCom sandbox, a case can run with ``time_scale`` F > 1. Every legal
deadline D is still computed exactly (the same day, the same 24:00); only the wall-clock moment the
run wakes up is brought forward: a deadline D whose clock started at the real instant A is reached
at wall time ``A + (D - A) / F``. With F = 86400 a 45-day notice period passes in 45 seconds.

Compressed time is refused against anything but a sandbox on loopback, so a production case can
never skip a legal wait.

:class:`TimeScale` is the one place that validates a ``time_scale`` and scales a wait by it: the
legal-deadline sensor, the takeover wait's poll interval, the deadline re-checks, the watchdog and the
cases page all use it.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import math
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pendulum

from offboarding.legal_time.clock import as_utc, require_aware

_SECRET_QUERY = re.compile(r"(?i)\b(access_token|corpsecret|key)=[^&#\s]*")


def redact_url(url: str) -> str:
    """``url`` with the values of ``access_token=``, ``corpsecret=`` and ``key=`` replaced by ``***``."""
    return _SECRET_QUERY.sub(lambda m: f"{m.group(1)}=***", url)


_BLANK = ("", "None", "null")


_NUMBERS = (int, float)


@dataclass(frozen=True)
class TimeScale:
    """A case's ``time_scale``: ``factor`` ≥ 1 (1 = real time), validated when made.

    ``TimeScale(86400)`` turns a legal day into a wall second. Build it from untrusted input with
    :meth:`parse` (numbers, their rendered-template text, empty = real time).
    """

    factor: float = 1.0

    def __post_init__(self) -> None:
        scale = self.factor
        if isinstance(scale, bool) or not isinstance(scale, _NUMBERS):
            raise ValueError(f"time_scale must be a number >= 1, got {scale!r}")
        value = float(scale)
        if not math.isfinite(value) or value < 1:
            raise ValueError(f"time_scale must be a number >= 1 (1 = real time), got {scale!r}")
        object.__setattr__(self, "factor", value)

    @classmethod
    def parse(cls, value: Any) -> TimeScale:
        """A TimeScale from a form value or a rendered template (``"86400"``); empty/None = real time.

        A ValueError naming ``time_scale`` for anything else than a number ≥ 1.
        """
        if isinstance(value, TimeScale):
            return value
        if value is None:
            return REAL_TIME
        if isinstance(value, str):
            text = value.strip()
            if text in _BLANK:
                return REAL_TIME
            try:
                value = float(text)
            except ValueError:
                raise ValueError(f"time_scale must be a number >= 1, got {value!r}") from None
        if value == 1 and not isinstance(value, bool):
            return REAL_TIME  # the usual case: no new value to validate
        return cls(value)

    @classmethod
    def or_real_time(cls, value: Any) -> TimeScale:
        """:meth:`parse`, but real time for a value that is not a valid scale (for what only displays
        or alerts: compressing a bad value would hide a late step)."""
        try:
            return cls.parse(value)
        except ValueError:
            return REAL_TIME

    @property
    def is_real_time(self) -> bool:
        return self.factor == 1

    def __float__(self) -> float:
        return self.factor

    def __str__(self) -> str:
        return _scale_text(self.factor)

    def wall_time_for(self, legal_instant: dt.datetime, anchor: dt.datetime | None) -> pendulum.DateTime:
        """The wall-clock instant (UTC) at which a run reaches the legal instant ``legal_instant``.

        ``anchor`` is the real instant the legal clock started. In real time (or without an anchor)
        this is ``legal_instant`` itself; else ``anchor + (legal_instant - anchor) / factor``.
        """
        if self.is_real_time or anchor is None:
            return as_utc(legal_instant, "deadline")
        legal = require_aware(legal_instant, "deadline")
        start = require_aware(anchor, "anchor")
        return (start + (legal - start) / self.factor).in_timezone("UTC")

    def wall_duration(self, duration: dt.timedelta) -> dt.timedelta:
        """How long ``duration`` (business time) lasts on the wall clock."""
        return duration / self.factor

    def poll_interval(self, every: dt.timedelta, *, floor_seconds: float = 0.0) -> float:
        """Seconds between two polls that the policy spaces ``every`` apart (never below ``floor_seconds``)."""
        return max(self.wall_duration(every).total_seconds(), floor_seconds)

    def require_sandbox(self, base_url: str, *, conn_id: str = "wecom_default") -> None:
        """Refuse compressed time unless the WeCom connection points at a sandbox on loopback.

        Real time is always allowed; any other scale only when ``base_url``'s host is loopback.
        ``conn_id`` names the connection in the error message (a ValueError).
        """
        if self.is_real_time:
            return
        if not isinstance(base_url, str) or not urlsplit(base_url).hostname:
            raise ValueError(f"base_url must be a URL like http://127.0.0.1:8000, got {base_url!r}")
        if not is_loopback_url(base_url):
            raise ValueError(
                f"time_scale={self} compresses legal waits and is only allowed against the "
                f"WeCom sandbox on loopback; connection {conn_id} points at {redact_url(base_url)}"
            )


REAL_TIME = TimeScale(1.0)


def _scale_text(scale: float) -> str:
    return str(int(scale)) if scale.is_integer() else repr(scale)


def is_loopback_url(base_url: str) -> bool:
    """True when ``base_url``'s host is 127.0.0.0/8, ::1 or localhost."""
    host = (urlsplit(base_url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or bool(mapped and mapped.is_loopback)


# -- the same as functions, for callers outside the package (tests, users' DAGs) ------------------------


def validate_time_scale(scale: object) -> float:
    """``scale`` as a float ≥ 1; a clear ValueError naming ``time_scale`` otherwise."""
    return TimeScale(scale).factor  # type: ignore[arg-type]


def check_time_scale(scale: float | TimeScale, base_url: str, *, conn_id: str = "wecom_default") -> None:
    """:meth:`TimeScale.require_sandbox` for a plain number."""
    (scale if isinstance(scale, TimeScale) else TimeScale(scale)).require_sandbox(base_url, conn_id=conn_id)


def wall_time_for(deadline: dt.datetime, anchor: dt.datetime, scale: float | TimeScale) -> pendulum.DateTime:
    """:meth:`TimeScale.wall_time_for` for a plain number."""
    return (scale if isinstance(scale, TimeScale) else TimeScale(scale)).wall_time_for(deadline, anchor)
