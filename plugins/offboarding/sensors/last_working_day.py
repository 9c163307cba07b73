"""Wait for the end of the last working day — the *effective* one, which a reschedule may move.

:class:`WaitForLastWorkingDaySensor` is the legal-deadline wait of ``preflight.wait_for_last_working_day``
with one difference, for the case action *reschedule* (:mod:`offboarding.cases.lifecycle`): it computes the
deadline from the case's controls (:func:`offboarding.operators.controls.effective_last_working_day`: the
last accepted reschedule, else the form's date) with the same rule as the steps that check it
(:func:`offboarding.operators.deadlines.legal_deadline`).

It waits for the end of that day as every legal wait does (:func:`offboarding.sensors.legal_deadline.wait_until`:
parked until a few hours before, then deferred to the standard provider's ``DateTimeTrigger``), reading
the day again each time it runs. A reschedule does not wait for it to wake: the action clears the parked
or deferred wait in the transaction that records it
(``offboarding.cases_page.actions_api.wake_last_working_day_wait``), so it starts again at once, reads the
new day and waits for its end. It records ``deadline.reached`` for the day it actually waited for.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import Context
from airflow.sdk.exceptions import AirflowFailException

from offboarding.sensors.legal_deadline import LegalDeadlineSensor, wait_until


class WaitForLastWorkingDaySensor(LegalDeadlineSensor):
    """Defer until the end (24:00 Asia/Shanghai) of the case's effective last working day.

    The ``deadline`` argument is only shown until the task runs; the day comes from the case (form +
    reschedules). Returns ``{"deadline", "reached_at", "last_working_day"}``. Retried per the policy
    (it reads the case over REST; an api-server briefly away costs a retry, not the case).
    """

    def __init__(self, **kwargs: Any) -> None:
        from offboarding.operators.base import with_retry_defaults

        super().__init__(**with_retry_defaults(kwargs))

    def execute(self, context: Context) -> dict[str, Any]:
        from offboarding.legal_time.clock import format_local
        from offboarding.operators.base import Case
        from offboarding.operators.deadlines import (
            LAST_WORKING_DAY,
            DeadlineUnknown,
            legal_deadline,
            record_deadline_reached,
        )

        case = Case.from_context(context)
        try:
            scale = case.time_scale
            deadline = legal_deadline(case, LAST_WORKING_DAY, context)
        except (DeadlineUnknown, ValueError) as err:
            raise AirflowFailException(
                f"{self.task_id}: the last working day cannot be waited for: {err}"
            ) from None
        day = deadline.basis.get("last_working_day")
        self.deadline = deadline.ends.isoformat()
        self.deadline_local = format_local(deadline.ends)
        now = pendulum.now("UTC")
        wall = deadline.wall_time(scale)
        if wall <= now:
            self.log.info("The last working day %s has ended (%s)", day, self.deadline_local)
            record_deadline_reached(case, deadline, step=self.task_id, scale=scale, reached_at=now)
            return {
                "deadline": deadline.ends.isoformat(),
                "reached_at": now.isoformat(),
                "last_working_day": day,
            }
        self.log.info(
            "Waiting for the end of the last working day %s (%s; wall clock %s); a reschedule starts this "
            "wait again with the new day",
            day,
            self.deadline_local,
            format_local(wall),
        )
        wait_until(self, wall, now)

    def execute_complete(self, context: Context, event: Any = None) -> dict[str, Any]:
        """Woken at the end of the day it deferred to: decide again from the case (ends, or defers again).

        ``event`` is the wake instant (``DateTimeTrigger``), or ``{"status": "reached", ...}`` from a wait
        deferred to ``LegalDeadlineTrigger`` before the upgrade.
        """
        if isinstance(event, dict) and event.get("status") != "reached":
            raise RuntimeError(
                f"{self.task_id}: the wait for the {self.waiting_for} ended unexpectedly: {event!r}"
            )
        return self.execute(context)
