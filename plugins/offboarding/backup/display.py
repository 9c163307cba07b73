"""How sizes and instants are shown to people: SI sizes and China Standard Time."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

CHINA_TIME = ZoneInfo("Asia/Shanghai")
"""The time zone every person-facing time is shown in (CST, UTC+8)."""

_UNITS = ("kB", "MB", "GB", "TB", "PB")


def format_size(size: int) -> str:
    """Return ``size`` bytes as people read it, in SI units: ``512 B``, ``3.4 MB``, ``1.2 GB``."""
    if size < 1000:
        return f"{size} B"
    value = float(size)
    for unit in _UNITS:
        value /= 1000
        if value < 999.95 or unit == _UNITS[-1]:
            return f"{value:.1f} {unit}"
    raise AssertionError("unreachable")


def format_local_time(instant: datetime, *, seconds: bool = False) -> str:
    """Return an aware instant in China time, e.g. ``2026-11-24 10:00 CST``."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"instant must be timezone-aware, got naive {instant.isoformat()}")
    pattern = "%Y-%m-%d %H:%M:%S %Z" if seconds else "%Y-%m-%d %H:%M %Z"
    return instant.astimezone(CHINA_TIME).strftime(pattern)
