"""The alert rules, as a pure function: steps + now + what was already said → alerts + what to remember.

For each watched step (see :mod:`offboarding.alerting.steps`), keyed by (dag, run, task, map index, try):

* **failed** → one alert with the error, the first time it is seen failed; never again for that try;
* **waiting, past its expected-by instant** → the first time: one *stalled* alert; afterwards a
  *reminder* each time the reminder interval (divided by the case's rehearsal time scale) has passed
  since the last alert; reminders after the first ``escalate_after_reminders`` also go to the
  escalation target;
* **waiting, not yet due** or **due unknown** → nothing (and nothing remembered);
* **no longer watched** (answered, resumed, succeeded, cleared into a new try) → forgotten: no alert
  ever again for that key.

:func:`decide` returns the alerts and the new state as if every alert were delivered;
:func:`keep_undelivered` puts back the old entries of alerts that could not be delivered, so the
next run tries again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from offboarding.alerting.steps import WatchedStep
from offboarding.alerting.timing import AlertTiming
from offboarding.timescale import TimeScale

STALLED = "stalled"
REMINDER = "reminder"
FAILED = "failed"


@dataclass(frozen=True)
class Alert:
    """One thing to tell people about one step."""

    kind: str  # STALLED | REMINDER | FAILED
    step: WatchedStep
    now: dt.datetime
    reminder_number: int = 0
    escalate: bool = False

    @property
    def waited(self) -> dt.timedelta | None:
        """How long the step has been waiting (since it started)."""
        return None if self.step.started_at is None else self.now - self.step.started_at

    @property
    def overdue(self) -> dt.timedelta | None:
        """How long past its expected-by instant."""
        return None if self.step.expected_by is None else self.now - self.step.expected_by


@dataclass(frozen=True)
class Decision:
    """What to send now and what to remember afterwards."""

    alerts: list[Alert]
    state: dict[str, dict[str, Any]]


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat()


def _instant(text: Any) -> dt.datetime | None:
    try:
        value = dt.datetime.fromisoformat(str(text))
    except ValueError:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _entry(
    step: WatchedStep, kind: str, now: dt.datetime, reminders: int, first: str | None = None
) -> dict[str, Any]:
    return {
        "kind": kind,
        "case_id": step.case.case_id,
        "first_alert_at": first or _iso(now),
        "last_alert_at": _iso(now),
        "reminders": reminders,
    }


def decide(
    steps: Iterable[WatchedStep],
    now: dt.datetime,
    state: Mapping[str, Mapping[str, Any]],
    timing: AlertTiming,
) -> Decision:
    """The alerts due at ``now`` and the state to keep; ``state`` is not changed."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    alerts: list[Alert] = []
    new_state: dict[str, dict[str, Any]] = {}
    for step in steps:
        key = step.key
        if key in new_state:
            continue  # the same task instance listed twice
        previous = state.get(key)
        if step.failed:
            if previous is not None and previous.get("kind") == FAILED:
                new_state[key] = dict(previous)
            else:
                alerts.append(Alert(FAILED, step, now))
                new_state[key] = _entry(step, FAILED, now, 0)
            continue
        if step.expected_by is None or now < step.expected_by:
            continue  # not due (or cannot tell): nothing to say, nothing to keep
        if previous is None or previous.get("kind") != STALLED:
            alerts.append(Alert(STALLED, step, now))
            new_state[key] = _entry(step, STALLED, now, 0)
            continue
        last = _instant(previous.get("last_alert_at"))
        interval = TimeScale.or_real_time(step.case.time_scale).wall_duration(timing.reminder_interval)
        if last is not None and now - last < interval:
            new_state[key] = dict(previous)
            continue
        number = int(previous.get("reminders", 0)) + 1
        escalate = number > timing.escalate_after_reminders
        alerts.append(Alert(REMINDER, step, now, reminder_number=number, escalate=escalate))
        new_state[key] = _entry(step, STALLED, now, number, first=previous.get("first_alert_at"))
    return Decision(alerts, new_state)


def keep_undelivered(
    decided: Mapping[str, Mapping[str, Any]],
    previous: Mapping[str, Mapping[str, Any]],
    undelivered_keys: Iterable[str],
) -> dict[str, dict[str, Any]]:
    """The state to save when the alerts of ``undelivered_keys`` could not be sent: as before for those."""
    result = {k: dict(v) for k, v in decided.items()}
    for key in undelivered_keys:
        if key in previous:
            result[key] = dict(previous[key])
        else:
            result.pop(key, None)
    return result
