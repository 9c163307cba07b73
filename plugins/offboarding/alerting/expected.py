"""When a waiting step should be done, on the wall clock — the same rule for the watchdog and the cases page.

* a **human step** pushed its ``expected_by`` (XCom) when it parked: that instant;
* a **legal wait** is not late while the law makes it wait: its deadline plus a grace period;
* **anything else** (an automatic task, a retry): the policy's expected duration of the step (by its
  id), or the default, counted from when the task started.

In a rehearsal (``time_scale`` > 1) every business duration is compressed
(:func:`offboarding.timescale.wall_time_for`): an instant ``T`` counted from ``start`` is reached on
the wall clock at ``start + (T - start) / time_scale``. The work of an automatic task is not business
time: a backup or a batch of deletions takes as long in a rehearsal as in production, so the default
step duration counts on the wall clock and a busy task is not called stalled seconds after it started.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pendulum

from offboarding.alerting.timing import AlertTiming
from offboarding.legal_time.clock import as_utc, later, parse_instant
from offboarding.timescale import REAL_TIME, TimeScale


def parse_xcom_instant(value: Any) -> pendulum.DateTime | None:
    """An ISO instant from an XCom or rendered field, however many times it was JSON-encoded; None if not one."""
    for _ in range(3):
        if isinstance(value, dt.datetime):
            break
        if not isinstance(value, str):
            return None
        text = value.strip()
        if text.startswith('"'):
            try:
                value = json.loads(text)
            except ValueError:
                return None
            continue
        value = text
        break
    try:
        return parse_instant(value, "expected_by")
    except (TypeError, ValueError):
        return None


def _scaled(
    instant: dt.datetime, start: dt.datetime | None, time_scale: TimeScale | float
) -> pendulum.DateTime:
    return TimeScale.parse(time_scale).wall_time_for(instant, start)


def human_step_expected_by(
    expected_by: Any, started_at: dt.datetime | None, time_scale: TimeScale | float = REAL_TIME
) -> pendulum.DateTime | None:
    """The wall instant a human step is due: its ``expected_by`` XCom (None when missing or unreadable)."""
    legal = parse_xcom_instant(expected_by)
    return None if legal is None else _scaled(legal, started_at, time_scale)


def legal_wait_expected_by(
    deadline: Any,
    *,
    anchor: Any = None,
    started_at: dt.datetime | None,
    time_scale: TimeScale | float = REAL_TIME,
    grace: dt.timedelta,
) -> pendulum.DateTime | None:
    """The wall instant a legal wait is overdue: its deadline (as the wait wakes for it) plus ``grace``."""
    legal = parse_xcom_instant(deadline)
    if legal is None:
        return None
    start = parse_xcom_instant(anchor) or started_at
    return later(_scaled(legal, start, time_scale), TimeScale.parse(time_scale).wall_duration(grace))


def task_expected_by(
    step_id: str,
    started_at: dt.datetime | None,
    timing: AlertTiming,
    time_scale: TimeScale | float = REAL_TIME,
) -> pendulum.DateTime | None:
    """The wall instant any other step is due: its expected duration (policy) from its start.

    A step with its own entry in the policy (a business duration) is compressed by ``time_scale``; the
    default duration of automatic work is not (machines do not run faster in a rehearsal).
    """
    if started_at is None:
        return None
    own = timing.step_durations.get(step_id)
    if own is None:
        return as_utc(timing.default_step_duration.due(started_at), "started_at")
    return _scaled(own.due(started_at), started_at, time_scale)
