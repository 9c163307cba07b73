"""Legal and business deadlines: when a review is due, a cooling-off ends, a creditor notice ends.

The figures (how many working days, how many days) come from the duration policy
(``include/policy.yaml``, see :mod:`offboarding.policy`); the counting rules are here.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pendulum

from offboarding.legal_time.calendar import default_calendar
from offboarding.legal_time.clock import LOCAL_TZ, as_day, end_of_local_day, local_date, require_aware

if TYPE_CHECKING:
    from offboarding.policy import Policy


def _policy() -> Policy:
    # Imported lazily: offboarding.policy itself uses this package.
    from offboarding.policy import get_policy

    return get_policy()


def review_due(submitted_at: dt.datetime) -> pendulum.DateTime:
    """When WeCom's review of an account-deregistration request is due.

    24:00 local (00:00 Asia/Shanghai of the next day) of the n-th PRC working day after the local
    day of submission; n is ``account_deregistration.review_working_days`` in the policy (2).
    """
    day = local_date(submitted_at, "submitted_at")
    n = _policy().account_deregistration.review_working_days
    return end_of_local_day(default_calendar().nth_working_day_after(day, n))


def cooling_off_end(submitted_at: dt.datetime) -> pendulum.DateTime:
    """When the cooling-off period (冷静期) after a deregistration request ends, in Asia/Shanghai.

    ``submitted_at`` plus ``account_deregistration.cooling_off_days`` (15) calendar days.
    """
    start = require_aware(submitted_at, "submitted_at")
    days = _policy().account_deregistration.cooling_off_days
    return (start + dt.timedelta(days=days)).in_timezone(LOCAL_TZ)


def notice_end(published_on: dt.date, procedure: str) -> pendulum.DateTime:
    """When a company-deregistration notice period ends (一般注销 45 days, 简易注销 20 days by default).

    The publication day is not counted, so the last day is ``published_on`` + N days; a last day
    that is not a working day moves to the next working day; the period ends at 24:00 local of the
    last day, returned as 00:00 Asia/Shanghai of the following day (民法典 第二百零一条–第二百零三条).
    """
    day = as_day(published_on, "published_on")
    notice_days = _policy().company_deregistration.notice_days
    if procedure not in notice_days:
        allowed = ", ".join(repr(p) for p in notice_days)
        raise ValueError(f"procedure must be one of {allowed}, got {procedure!r}")
    calendar = default_calendar()
    last_day = day + dt.timedelta(days=notice_days[procedure])
    while not calendar.is_working_day(last_day):
        last_day += dt.timedelta(days=1)
    return end_of_local_day(last_day)
