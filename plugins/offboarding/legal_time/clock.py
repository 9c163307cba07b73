"""Local time in the PRC: the Asia/Shanghai zone, local dates and "24:00" of a local day.

Legal periods are counted in local days: a submission at 2025-09-30T16:30Z happened on
2025-10-01 (00:30 in Shanghai). Every function here refuses naive datetimes, because a naive
datetime silently means "whatever zone this server runs in".
"""

from __future__ import annotations

import datetime as dt

import pendulum

LOCAL_TZ_NAME = "Asia/Shanghai"
LOCAL_TZ = pendulum.timezone(LOCAL_TZ_NAME)


def require_aware(value: object, name: str) -> pendulum.DateTime:
    """``value`` as a pendulum DateTime in Asia/Shanghai; refuses naive datetimes and non-datetimes.

    ``name`` is the argument's name, used in the error message.
    """
    if not isinstance(value, dt.datetime):
        raise TypeError(f"{name} must be a timezone-aware datetime, got {type(value).__name__} {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"{name} must be timezone-aware (got a naive datetime); "
            f"pass e.g. pendulum.datetime(..., tz='{LOCAL_TZ_NAME}')"
        )
    return pendulum.instance(value).in_timezone(LOCAL_TZ)


def parse_instant(value: object, name: str) -> pendulum.DateTime:
    """An aware datetime or an ISO string with an offset (as rendered from XCom) in Asia/Shanghai.

    A string without an offset is refused like a naive datetime.
    """
    if isinstance(value, str):
        text = value.strip()
        if not text or text == "None":
            raise ValueError(f"{name} is empty: expected an ISO datetime like 2026-12-01T00:00:00+08:00")
        try:
            value = dt.datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(
                f"{name} must be an ISO datetime with an offset like 2026-12-01T00:00:00+08:00, got {text!r}"
            ) from None
    return require_aware(value, name)


def as_day(value: object, name: str) -> dt.date:
    """``value`` as a calendar date: a ``date`` or an ISO string ``YYYY-MM-DD``.

    A datetime is refused: which day it falls on depends on the time zone, so convert it with
    :func:`local_date` first.
    """
    if isinstance(value, dt.datetime):
        raise TypeError(
            f"{name} must be a date, got a datetime {value!r}; pass local_date(...) of it "
            f"(its day in {LOCAL_TZ_NAME})"
        )
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"{name} must be a date like 2026-12-01, got {value!r}") from None
    raise TypeError(f"{name} must be a date, got {type(value).__name__} {value!r}")


def local_date(moment: dt.datetime, name: str = "moment") -> dt.date:
    """The day ``moment`` falls on in Asia/Shanghai."""
    local = require_aware(moment, name)
    return dt.date(local.year, local.month, local.day)


def end_of_local_day(day: dt.date | str, name: str = "day") -> pendulum.DateTime:
    """24:00 of ``day`` in Asia/Shanghai, i.e. 00:00 Asia/Shanghai of the following day."""
    next_day = as_day(day, name) + dt.timedelta(days=1)
    return pendulum.datetime(next_day.year, next_day.month, next_day.day, tz=LOCAL_TZ)


def format_local(moment: dt.datetime) -> str:
    """``moment`` as an ops engineer reads it: ``2025-10-09 00:00 (Asia/Shanghai)``."""
    local = require_aware(moment, "moment")
    pattern = "%Y-%m-%d %H:%M:%S" if local.second or local.microsecond else "%Y-%m-%d %H:%M"
    return f"{local.strftime(pattern)} ({LOCAL_TZ_NAME})"
