"""Legal and business deadlines: when a review is due, a cooling-off ends, a creditor notice ends.

The counting rules are here; the figures are keyword arguments whose defaults are the documented
periods (review 2 working days, cooling-off 15 days, notice 45 days general / 20 days simplified).
A deployment's own figures live in its duration policy: :mod:`offboarding.policy` calls these
functions with them (``offboarding.policy.review_due`` and friends), this module imports nothing of ours.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from types import MappingProxyType

import pendulum

from offboarding.legal_time.calendar import PrcCalendar, default_calendar
from offboarding.legal_time.clock import LOCAL_TZ, as_day, end_of_local_day, local_date, require_aware

#: WeCom's review of an account-deregistration request: "usually 1-2 working days" (UNCONFIRMED).
REVIEW_WORKING_DAYS = 2
#: The cooling-off period (冷静期) after a deregistration request, in calendar days.
COOLING_OFF_DAYS = 15
#: The company-deregistration notice periods in calendar days: 一般注销 45 (公司法 2023 第二百三十五条),
#: 简易注销 20 (公司法 2023 第二百四十条).
NOTICE_DAYS: Mapping[str, int] = MappingProxyType({"general": 45, "simplified": 20})


def review_due(
    submitted_at: dt.datetime,
    *,
    working_days: int = REVIEW_WORKING_DAYS,
    calendar: PrcCalendar | None = None,
) -> pendulum.DateTime:
    """When WeCom's review of an account-deregistration request is due.

    24:00 local (00:00 Asia/Shanghai of the next day) of the ``working_days``-th PRC working day after
    the local day of submission. ``calendar`` defaults to :func:`default_calendar`.
    """
    day = local_date(submitted_at, "submitted_at")
    chosen = calendar if calendar is not None else default_calendar()
    return end_of_local_day(chosen.nth_working_day_after(day, working_days))


def cooling_off_end(submitted_at: dt.datetime, *, days: int = COOLING_OFF_DAYS) -> pendulum.DateTime:
    """When the cooling-off period (冷静期) after a deregistration request ends, in Asia/Shanghai.

    ``submitted_at`` plus ``days`` calendar days.
    """
    start = require_aware(submitted_at, "submitted_at")
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ValueError(f"days must be a whole number of days >= 1, got {days!r}")
    return (start + dt.timedelta(days=days)).in_timezone(LOCAL_TZ)


def notice_end(
    published_on: dt.date,
    procedure: str,
    *,
    notice_days: Mapping[str, int] = NOTICE_DAYS,
    calendar: PrcCalendar | None = None,
) -> pendulum.DateTime:
    """When a company-deregistration notice period ends (一般注销 45 days, 简易注销 20 days by default).

    ``notice_days`` maps each procedure (``general``, ``simplified``) to its period in calendar days.
    The publication day is not counted, so the last day is ``published_on`` + N days; a last day
    that is not a working day moves to the next working day; the period ends at 24:00 local of the
    last day, returned as 00:00 Asia/Shanghai of the following day (民法典 第二百零一条–第二百零三条).
    """
    day = as_day(published_on, "published_on")
    if procedure not in notice_days:
        allowed = ", ".join(repr(p) for p in notice_days)
        raise ValueError(f"procedure must be one of {allowed}, got {procedure!r}")
    chosen = calendar if calendar is not None else default_calendar()
    last_day = day + dt.timedelta(days=notice_days[procedure])
    while not chosen.is_working_day(last_day):
        last_day += dt.timedelta(days=1)
    return end_of_local_day(last_day)
