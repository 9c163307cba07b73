"""Legal time in the PRC: the working-day calendar and the deadlines counted on it.

Pure functions that import nothing of the product, safe to call from users' own DAGs, operators and
triggers. Time zone Asia/Shanghai; timezone-aware datetimes in and out, naive datetimes refused.

The periods are keyword arguments with the documented defaults (review 2 working days, cooling-off
15 days, notice 45 / 20 days); the calendar is ``calendar=`` or the registered default. A
deployment's figures and calendar overrides come from its policy: call ``offboarding.policy``'s
:func:`~offboarding.policy.review_due`, :func:`~offboarding.policy.cooling_off_end`,
:func:`~offboarding.policy.notice_end` and :func:`~offboarding.policy.deployment_calendar` to use them
(importing :mod:`offboarding.policy` also registers the deployment's calendar as the default here).

* :func:`is_working_day`, :func:`nth_working_day_after` — the PRC calendar (holidays, 调休);
* :func:`review_due`, :func:`cooling_off_end`, :func:`notice_end` — the product's legal deadlines;
* :func:`is_estimated`, :func:`calendar_note` — whether a year's calendar is announced or estimated;
* :func:`local_date`, :func:`end_of_local_day`, :func:`format_local` — local days and instants.
"""

from __future__ import annotations

from offboarding.legal_time.calendar import (
    CalendarOverrideError,
    PrcCalendar,
    YearOverride,
    calendar_note,
    default_calendar,
    is_estimated,
    is_working_day,
    load_overrides,
    nth_working_day_after,
    reload_calendar,
    set_default_calendar,
)
from offboarding.legal_time.clock import (
    LOCAL_TZ,
    LOCAL_TZ_NAME,
    end_of_local_day,
    format_local,
    local_date,
    parse_instant,
    require_aware,
)
from offboarding.legal_time.deadlines import (
    COOLING_OFF_DAYS,
    NOTICE_DAYS,
    REVIEW_WORKING_DAYS,
    cooling_off_end,
    notice_end,
    review_due,
)

__all__ = [
    "COOLING_OFF_DAYS",
    "LOCAL_TZ",
    "LOCAL_TZ_NAME",
    "NOTICE_DAYS",
    "REVIEW_WORKING_DAYS",
    "CalendarOverrideError",
    "PrcCalendar",
    "YearOverride",
    "calendar_note",
    "cooling_off_end",
    "default_calendar",
    "end_of_local_day",
    "format_local",
    "is_estimated",
    "is_working_day",
    "load_overrides",
    "local_date",
    "notice_end",
    "nth_working_day_after",
    "parse_instant",
    "reload_calendar",
    "require_aware",
    "review_due",
    "set_default_calendar",
]
