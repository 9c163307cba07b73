"""Legal deadlines that the steps depending on them check themselves.

A wait task (:class:`~offboarding.sensors.legal_deadline.LegalDeadlineSensor`) only holds the
run until a legal period is over. Anyone allowed to change task states (UI "Mark success", REST
``PATCH .../taskInstances/...``) could end that wait early; the law's period would not be any shorter.
So every step that may only act after a legal deadline calls :func:`require_deadline_passed` first: it
computes the deadline again from the case's own form and evidence ledger, with
:mod:`offboarding.legal_time` and the case's ``time_scale`` — never from the wait task's XCom or
state — and refuses (``AirflowFailException``, before any WeCom call) while it lies in the future.

The deadlines (``name``: what it is computed from → the steps that check it):

* ``last_working_day`` — the form's ``last_working_day``, ended at 24:00 Asia/Shanghai; rehearsal
  anchor: the run's ``run_after`` (as the wait) → the handover steps (``hand_over_customers``,
  ``hand_over_customer_groups``, ``leave_tags_and_group_chats``), ``disable_member``, ``delete_member``.
* ``notice_period`` — the ``published_on`` answered in ``dissolution_notice.record_notice_publication``
  (the ledger's latest ``human_step.answered`` of that step) and the form's ``procedure``, by
  :func:`offboarding.legal_time.notice_end`; anchor: when that answer was given → ``offboard_member_batch``,
  ``offboard_leaders``, ``close_wecom_enterprise``.
* ``cooling_off`` — the ``submitted_at`` answered in ``account_deregistration.record_submission``, by
  :func:`offboarding.legal_time.cooling_off_end`; anchor: the submission → ``confirm_deregistration_outcome``,
  ``verify_account_gone``.

Reaching a deadline is evidence: ``deadline.reached`` (key ``<name>@<deadline ISO>``) with the legal
instant, when it was reached and the time scale, written once — by the wait when it ends normally, or
else by the first step whose check passes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pendulum
from airflow.sdk import Context
from airflow.sdk.exceptions import AirflowFailException

from offboarding.operators.base import Case
from offboarding.timescale import TimeScale

DEADLINE_REACHED = "deadline.reached"
LAST_WORKING_DAY = "last_working_day"
NOTICE_PERIOD = "notice_period"
COOLING_OFF = "cooling_off"
PUBLICATION_STEP = "dissolution_notice.record_notice_publication"
SUBMISSION_STEP = "account_deregistration.record_submission"
ANSWERED = "human_step.answered"

TITLES = {
    LAST_WORKING_DAY: "the last working day",
    NOTICE_PERIOD: "the notice period",
    COOLING_OFF: "the cooling-off",
}
WAIT_TASKS = {
    LAST_WORKING_DAY: "preflight.wait_for_last_working_day",
    NOTICE_PERIOD: "dissolution_notice.wait_for_notice_period_end",
    COOLING_OFF: "account_deregistration.wait_for_cooling_off_end",
}


def _now() -> pendulum.DateTime:
    """The current instant (UTC); one place for tests to move the clock."""
    return pendulum.now("UTC")


class DeadlineUnknown(ValueError):
    """The deadline cannot be computed from the case (not recorded yet, or a bad value)."""


@dataclass(frozen=True)
class LegalDeadline:
    """One legal deadline of a case, as computed from the case itself."""

    name: str
    ends: pendulum.DateTime
    anchor: pendulum.DateTime | None = None  # the real instant the legal clock started (rehearsals)
    basis: Mapping[str, Any] = field(default_factory=dict)  # what it was computed from

    @property
    def title(self) -> str:
        return TITLES[self.name]

    @property
    def key(self) -> str:
        """The ledger key of its ``deadline.reached`` entry."""
        return f"{self.name}@{self.ends.in_timezone('UTC').isoformat()}"

    def wall_time(self, scale: TimeScale) -> pendulum.DateTime:
        """When a run with ``time_scale`` ``scale`` reaches it (the legal instant itself in real time)."""
        return scale.wall_time_for(self.ends, self.anchor)


# -- computing each deadline from the case --------------------------------------------------------------


def _latest_answer(case: Case, step: str) -> Any:
    """The latest ``human_step.answered`` entry of ``step`` in the case's ledger, or None."""
    latest = None
    for entry in case.ledger.entries():
        if entry.action == ANSWERED and entry.step == step:
            latest = entry
    return latest


def _answer_field(case: Case, step: str, name: str) -> tuple[Any, Any]:
    entry = _latest_answer(case, step)
    result = entry.result if entry is not None and isinstance(entry.result, Mapping) else {}
    evidence = result.get("evidence") if isinstance(result.get("evidence"), Mapping) else {}
    value = evidence.get(name)
    if value in (None, ""):
        raise DeadlineUnknown(
            f"no {name} was answered in {step} (no {ANSWERED} entry of that step with it in the ledger "
            f"{case.ledger.location}); that step must be answered first"
        )
    return value, result.get("responded_at") or entry.at


def _instant_or_none(value: Any) -> pendulum.DateTime | None:
    from offboarding import legal_time

    try:
        return legal_time.parse_instant(value, "anchor")
    except (TypeError, ValueError):
        return None


def _last_working_day(case: Case, context: Context | None) -> LegalDeadline:
    from offboarding import legal_time
    from offboarding.operators.controls import effective_last_working_day

    case.form  # noqa: B018 - an invalid form: InvalidCase, naming the field, before the controls are read
    day = effective_last_working_day(case)  # the form's, or the last accepted reschedule
    try:
        ends = legal_time.end_of_local_day(day, "last_working_day")
    except (TypeError, ValueError) as err:
        raise DeadlineUnknown(f"the form's {err}") from None
    dag_run = (context or {}).get("dag_run")
    run_after = getattr(dag_run, "run_after", None)
    anchor = _instant_or_none(run_after.isoformat() if hasattr(run_after, "isoformat") else run_after)
    return LegalDeadline(LAST_WORKING_DAY, ends, anchor, {"last_working_day": str(day)})


def _notice_period(case: Case, context: Context | None) -> LegalDeadline:
    from offboarding import legal_time

    published_on, answered_at = _answer_field(case, PUBLICATION_STEP, "published_on")
    procedure = case.company.procedure
    try:
        ends = legal_time.notice_end(published_on, procedure)
    except (TypeError, ValueError) as err:
        raise DeadlineUnknown(f"published_on {published_on!r} ({PUBLICATION_STEP}): {err}") from None
    basis = {"published_on": str(published_on), "procedure": procedure, "from": PUBLICATION_STEP}
    return LegalDeadline(NOTICE_PERIOD, ends, _instant_or_none(answered_at), basis)


def _cooling_off(case: Case, context: Context | None) -> LegalDeadline:
    from offboarding import legal_time

    submitted_at, _answered_at = _answer_field(case, SUBMISSION_STEP, "submitted_at")
    try:
        submitted = legal_time.parse_instant(submitted_at, "submitted_at")
        ends = legal_time.cooling_off_end(submitted)
    except (TypeError, ValueError) as err:
        raise DeadlineUnknown(f"submitted_at ({SUBMISSION_STEP}): {err}") from None
    return LegalDeadline(COOLING_OFF, ends, submitted, {"submitted_at": str(submitted_at)})


_COMPUTE = {
    LAST_WORKING_DAY: _last_working_day,
    NOTICE_PERIOD: _notice_period,
    COOLING_OFF: _cooling_off,
}


def legal_deadline(case: Case, name: str, context: Context | None = None) -> LegalDeadline:
    """Deadline ``name`` of ``case``, computed from its form and ledger; DeadlineUnknown if it cannot be."""
    from offboarding.evidence.ledger import LedgerError

    if name not in _COMPUTE:
        raise ValueError(f"unknown legal deadline {name!r}; known: {', '.join(_COMPUTE)}")
    try:
        return _COMPUTE[name](case, context)
    except LedgerError as err:
        raise DeadlineUnknown(str(err)) from None


# -- the check and the evidence ------------------------------------------------------------------------


def _checked_time_scale(case: Case) -> TimeScale:
    """The case's time scale; compressed time only against the sandbox on loopback (checked again here:
    a ``check_case`` marked success by hand must not let a production case run in rehearsal time)."""
    scale = case.form.time_scale
    if not scale.is_real_time:
        from offboarding.hooks.wecom import WeComHook

        conn_id = case.form.wecom_conn_id
        scale.require_sandbox(WeComHook(conn_id).base_url, conn_id=conn_id)
    return scale


def require_deadline_passed(
    case: Case,
    name: str,
    *,
    step: str,
    what: str,
    context: Context | None = None,
    now: dt.datetime | None = None,
) -> LegalDeadline:
    """Refuse (``AirflowFailException``) unless legal deadline ``name`` of ``case`` has passed.

    ``step`` is the task id asking (the ledger's step), ``what`` the action in the user's words
    ("deleting lisi"), used in the message: ``deleting lisi is refused: the last working day ends
    2026-11-21 00:00 (Asia/Shanghai); ...``. ``context`` gives the run (the last working day's rehearsal
    anchor). Records ``deadline.reached`` the first time it passes. Makes no WeCom call.
    """
    from offboarding import legal_time

    refused = f"{what} is refused: "
    try:
        scale = _checked_time_scale(case)
        deadline = legal_deadline(case, name, context)
    except ValueError as err:
        raise AirflowFailException(f"{refused}{TITLES.get(name, name)} cannot be checked: {err}") from None
    moment = pendulum.instance(now) if now is not None else _now()
    wake = deadline.wall_time(scale)
    if moment < wake:
        rehearsal = (
            f" (this rehearsal at time_scale {scale.factor:g} reaches it at {legal_time.format_local(wake)})"
            if not scale.is_real_time
            else ""
        )
        raise AirflowFailException(
            f"{refused}{deadline.title} ends {legal_time.format_local(deadline.ends)}{rehearsal}; it is "
            f"{legal_time.format_local(moment)} now. A wait marked success by hand does not shorten a legal "
            f"period: set {WAIT_TASKS[name]} back to run (clear it) and clear this task once it has ended."
        )
    record_deadline_reached(case, deadline, step=step, scale=scale, reached_at=moment)
    return deadline


def record_deadline_reached(
    case: Case,
    deadline: LegalDeadline,
    *,
    step: str,
    scale: TimeScale,
    reached_at: dt.datetime | None = None,
) -> None:
    """``deadline.reached`` for ``deadline`` in the case's ledger, unless it is already there."""
    from offboarding import legal_time

    if case.ledger.has_action(DEADLINE_REACHED, deadline.key):
        return
    moment = pendulum.instance(reached_at) if reached_at is not None else _now()
    case.ledger.append(
        DEADLINE_REACHED,
        actor=f"airflow:{step}",
        step=step,
        key=deadline.key,
        request={"deadline": deadline.name, "basis": dict(deadline.basis)},
        result={
            "deadline": deadline.name,
            "ends": deadline.ends.isoformat(),
            "ends_local": legal_time.format_local(deadline.ends),
            "reached_at": moment.in_timezone("UTC").isoformat(),
            "time_scale": scale.factor,
        },
    )
