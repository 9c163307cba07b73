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
    if isinstance(value, pendulum.DateTime) and value.tzinfo is LOCAL_TZ:
        return value  # already what we return: no conversion (hot on the cases page, for every open case)
    return _in_zone(value, LOCAL_TZ)


def as_utc(value: object, name: str = "moment") -> pendulum.DateTime:
    """``value`` (an aware datetime) as a pendulum DateTime in UTC; refuses naive datetimes like
    :func:`require_aware`."""
    aware = require_aware(value, name)
    return _in_zone(aware, pendulum.UTC)


def later(moment: dt.datetime, duration: dt.timedelta, name: str = "moment") -> pendulum.DateTime:
    """``moment`` plus ``duration`` of elapsed time, in ``moment``'s zone when that is UTC or
    Asia/Shanghai (else Asia/Shanghai): pendulum's ``moment + duration`` for these zones, which have no
    daylight saving time, without pendulum's arithmetic (the cases page adds for every open case)."""
    aware = require_aware(moment, name)
    zone = pendulum.UTC if moment.tzinfo is pendulum.UTC else LOCAL_TZ
    return _in_zone(_plain(aware) + duration, zone)


def _plain(value: dt.datetime) -> dt.datetime:
    """A standard-library datetime of the same wall time and zone (pendulum's own arithmetic is slow)."""
    if type(value) is dt.datetime:
        return value
    return dt.datetime(
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
        value.microsecond,
        tzinfo=value.tzinfo,
        fold=value.fold,
    )


def _in_zone(value: dt.datetime, zone: dt.tzinfo) -> pendulum.DateTime:
    """The aware ``value`` in ``zone``, as ``pendulum.instance(value).in_timezone(zone)`` gives it.

    The standard library converts (in C) and one constructor call makes the pendulum DateTime: eight
    times cheaper than pendulum's own conversion, which the cases page would pay for every open case.
    """
    local = _plain(value).astimezone(zone)
    return pendulum.DateTime(
        local.year,
        local.month,
        local.day,
        local.hour,
        local.minute,
        local.second,
        local.microsecond,
        tzinfo=zone,
        fold=local.fold,
    )


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
