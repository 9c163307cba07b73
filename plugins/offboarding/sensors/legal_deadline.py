"""Wait, without holding a worker slot, until a legal deadline has passed.

Typical use: a task computes the deadline once (``notice_end``, ``cooling_off_end``, ...) and pushes
it to XCom; this sensor waits for it::

    LegalDeadlineSensor(
        task_id="wait_for_notice_period_end",
        deadline="{{ ti.xcom_pull(task_ids='dissolution_notice.record_notice_publication')['notice_end'] }}",
        anchor="{{ ti.xcom_pull(task_ids='dissolution_notice.record_notice_publication')['published_at'] }}",
        time_scale="{{ params.time_scale }}",
        label="notice period end",
    )

The wait holds nothing while it is far off: until ``OFFBOARDING_TIME_WAIT_TRIGGERER_HOURS`` (6) before the
wall-clock wake time (the legal deadline, or its compressed instant in a rehearsal) the task is *parked*:
it asks Airflow to run it again then (``up_for_reschedule``, one ``task_reschedule`` row; no worker slot,
no trigger). Run again, it defers the last stretch to the standard provider's ``DateTimeTrigger``, which
wakes it on time. A deployment with 10,000 cases waiting for weeks so keeps only the waits of the next
hours in its triggerer. The legal deadline is not carried by either: each run renders ``deadline`` again
(it is pulled from XCom, which does not change).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, NoReturn

import pendulum
from airflow.sdk import BaseSensorOperator, Context
from airflow.sdk.exceptions import AirflowRescheduleException

if TYPE_CHECKING:
    from offboarding.timescale import TimeScale

# Key under which the anchor is kept in the task state store, so a retry keeps the same legal clock.
ANCHOR_STATE_KEY = "legal_clock_anchor"
# Keep the stored anchor this long after the deadline (a retry after the deadline still finds it).
ANCHOR_KEEP_AFTER_DEADLINE = dt.timedelta(days=30)
# The sensor's ``timeout`` is never applied (the task defers once, with no trigger timeout); it is set
# above any legal period so that nothing reading it (a UI, a linter) sees Airflow's 7-day default.
NO_TIMEOUT = dt.timedelta(days=3650)


def wait_until(sensor: BaseSensorOperator, wake_at: pendulum.DateTime, now: pendulum.DateTime) -> NoReturn:
    """Wait until ``wake_at`` (wall clock): parked in Airflow's database while it is further away than the
    triggerer lead, deferred to ``DateTimeTrigger`` (resuming in ``execute_complete``) for the rest."""
    from airflow.providers.standard.triggers.temporal import DateTimeTrigger

    from offboarding.legal_time.clock import format_local
    from offboarding.settings import time_wait_triggerer_lead

    lead = time_wait_triggerer_lead()
    if wake_at - now > lead:
        park_until = wake_at - lead
        sensor.log.info(
            "Parked until %s (up_for_reschedule: no worker slot, nothing in the triggerer); then deferred "
            "to the wake time",
            format_local(park_until),
        )
        raise AirflowRescheduleException(park_until)
    sensor.defer(trigger=DateTimeTrigger(moment=wake_at), method_name="execute_complete", timeout=None)


def _has_anchor(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and value.strip() in ("", "None"))


class LegalDeadlineSensor(BaseSensorOperator):
    """Wait until a legal ``deadline`` has passed; return at once if it already has.

    Parks (reschedules itself) until a few hours before, then defers once to ``DateTimeTrigger`` (standard
    provider) with ``timeout=None`` (no trigger timeout): :func:`wait_until`. It never pokes, so
    ``[sensors] default_timeout`` (7 days, which would fail every 15-, 20- or 45-day wait) does not apply,
    and ``execution_timeout`` is forced to None (it counts total runtime across deferrals), so it waits
    exactly as long as the law says. Overdue-alerting belongs to the steps
    around it, not to a timeout here.

    :param deadline: the legal instant (templated): an aware datetime or an ISO string with an offset,
        typically pulled from XCom. Naive values are refused.
    :param anchor: the real instant the legal clock started (templated). Only matters for rehearsals
        (``time_scale`` > 1). Default: when the task first runs; it is kept in the task state store
        so a retry keeps it, but passing it explicitly is better.
    :param time_scale: rehearsal compression (templated, default 1; see :class:`offboarding.timescale.TimeScale`).
        The deadline itself never changes; the run wakes at ``anchor + (deadline - anchor) / time_scale``.
    :param label: what is being waited for, in the ops engineer's words ("notice period end");
        kept as ``waiting_for`` (``BaseOperator.label`` is the task's display label).
    :param what_to_do_if_stalled: advice shown in the task's documentation when ``doc_md`` is not given.
    :param deadline_name: which legal deadline of the case this is (``last_working_day``,
        ``notice_period``, ``cooling_off``; see :mod:`offboarding.operators.deadlines`). When given, the
        wait records ``deadline.reached`` in the case's ledger when it ends normally. The steps after
        it check the deadline again themselves: marking this task success by hand shortens nothing.

    Rendered template field ``deadline_local`` shows the deadline in Asia/Shanghai local time.
    Returns ``{"deadline": <ISO, Asia/Shanghai>, "reached_at": <ISO, UTC>}``.
    """

    template_fields = ("deadline", "anchor", "time_scale", "waiting_for", "deadline_local")
    ui_color = "#f3e4c1"

    def __init__(
        self,
        *,
        deadline: dt.datetime | str,
        anchor: dt.datetime | str | None = None,
        time_scale: float | str = 1,
        label: str = "legal deadline",
        what_to_do_if_stalled: str = "",
        deadline_name: str | None = None,
        **kwargs: Any,
    ) -> None:
        ignored_timeout = kwargs.pop("execution_timeout", None)
        if not kwargs.get("doc_md"):
            kwargs["doc_md"] = self._default_doc(label, what_to_do_if_stalled)
        kwargs["timeout"] = NO_TIMEOUT
        super().__init__(execution_timeout=None, **kwargs)
        if ignored_timeout is not None:
            self.log.warning(
                "%s: execution_timeout=%s ignored: it counts total runtime across deferrals and would "
                "cut a legal wait short",
                self.task_id,
                ignored_timeout,
            )
        self.deadline = deadline
        self.anchor = anchor
        self.time_scale = time_scale
        self.waiting_for = label  # BaseOperator.label is the task's display label
        self.what_to_do_if_stalled = what_to_do_if_stalled
        self.deadline_name = deadline_name
        self.deadline_local = ""

    @staticmethod
    def _default_doc(label: str, what_to_do_if_stalled: str) -> str:
        doc = (
            f"**Wait for the {label}.** Holds no worker slot: *up for reschedule* (parked) until a few hours "
            "before the legal deadline, then *deferred* to the triggerer; it succeeds when the deadline has "
            "passed (Asia/Shanghai; see *Rendered Template* › `deadline_local`)."
        )
        if what_to_do_if_stalled:
            doc += f"\n\n**If it stalls:** {what_to_do_if_stalled}"
        return doc

    def render_template_fields(self, context: Context, jinja_env: Any = None) -> None:
        """Render templates, then show the deadline in local time in the rendered fields."""
        from offboarding.legal_time.clock import format_local, parse_instant

        super().render_template_fields(context, jinja_env)
        try:
            self.deadline_local = format_local(parse_instant(self.deadline, "deadline"))
        except (TypeError, ValueError):
            self.deadline_local = ""  # execute() reports the bad deadline with a clear message

    def _resolve_anchor(self, context: Context, deadline: pendulum.DateTime) -> pendulum.DateTime:
        """The anchor given, else the one stored by an earlier try, else now (stored for retries)."""
        from offboarding.legal_time.clock import parse_instant

        if _has_anchor(self.anchor):
            return parse_instant(self.anchor, "anchor")
        store = context.get("task_state_store")
        if store is not None and (stored := store.get(ANCHOR_STATE_KEY)):
            return parse_instant(stored, f"the stored {ANCHOR_STATE_KEY}")
        now = pendulum.now("UTC")
        if store is not None:
            keep = max(deadline - now, dt.timedelta(0)) + ANCHOR_KEEP_AFTER_DEADLINE
            store.set(ANCHOR_STATE_KEY, now.isoformat(), retention=keep)
        return now

    def execute(self, context: Context) -> dict[str, str]:
        from offboarding.legal_time.clock import format_local, parse_instant
        from offboarding.timescale import TimeScale

        deadline = parse_instant(self.deadline, "deadline")
        scale = TimeScale.parse(self.time_scale)
        if _has_anchor(self.anchor):
            parse_instant(self.anchor, "anchor")  # refuse a bad anchor before anything else happens
        self.deadline_local = format_local(deadline)
        anchor = None if scale.is_real_time else self._resolve_anchor(context, deadline)
        wake_at = scale.wall_time_for(deadline, anchor)
        now = pendulum.now("UTC")
        self.log.info(
            "Waiting for %s: legal deadline %s; wakes at %s wall clock (time_scale=%s)",
            self.waiting_for,
            self.deadline_local,
            format_local(wake_at),
            f"{scale.factor:g}",
        )
        if wake_at <= now:
            self.log.info("The %s has already passed; not waiting", self.waiting_for)
            return self._reached(context, deadline, anchor, scale)
        wait_until(self, wake_at, now)

    def execute_complete(self, context: Context, event: Any = None) -> dict[str, str]:
        """Resume after the trigger fired: report when the deadline was reached.

        ``event`` is the wake instant (``DateTimeTrigger``), or, for a wait deferred by an earlier
        version, ``{"status": "reached", "deadline": ...}`` from ``LegalDeadlineTrigger``.
        """
        from offboarding.legal_time.clock import parse_instant
        from offboarding.timescale import TimeScale

        if isinstance(event, dict):  # a LegalDeadlineTrigger deferred before the upgrade
            if event.get("status") != "reached":
                raise RuntimeError(
                    f"{self.task_id}: the wait for the {self.waiting_for} ended unexpectedly: {event!r}"
                )
            deadline = parse_instant(event["deadline"], "event deadline")
        elif isinstance(event, dt.datetime | str):
            deadline = parse_instant(self.deadline, "deadline")
        else:
            raise RuntimeError(
                f"{self.task_id}: the wait for the {self.waiting_for} ended unexpectedly: {event!r}"
            )
        scale = TimeScale.parse(self.time_scale)
        anchor = parse_instant(self.anchor, "anchor") if _has_anchor(self.anchor) else None
        return self._reached(context, deadline, anchor, scale)

    def _reached(
        self,
        context: Context,
        deadline: pendulum.DateTime,
        anchor: pendulum.DateTime | None,
        scale: TimeScale,
    ) -> dict[str, str]:
        """The result; with ``deadline_name``, also ``deadline.reached`` in the case's ledger."""
        from offboarding.legal_time.clock import parse_instant

        result = {"deadline": deadline.isoformat(), "reached_at": pendulum.now("UTC").isoformat()}
        if self.deadline_name:
            from offboarding.operators.base import Case
            from offboarding.operators.deadlines import LegalDeadline, record_deadline_reached

            reached = LegalDeadline(self.deadline_name, deadline, anchor, {"waited_by": self.task_id})
            record_deadline_reached(
                Case.from_context(context),
                reached,
                step=self.task_id,
                scale=scale,
                reached_at=parse_instant(result["reached_at"], "reached_at"),
            )
        return result
