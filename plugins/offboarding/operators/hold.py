"""The legal-hold gate at the start of every irreversible step, whatever the DAG's edges say.

``require_not_held(operator, case, context, what=...)`` reads the case's controls
(:mod:`offboarding.operators.controls`) and

* returns them when the case is neither held nor rescinded: the step goes on;
* when the case is on hold: records nothing, logs who held it since when and why, and **defers** (no worker
  slot) to :class:`~offboarding.triggers.case_controls.CaseReleasedTrigger`, which only polls the case
  endpoint; when it fires, :func:`resume_after_hold` runs the step's ``execute`` again from the start, so
  the gate (and every other check of the step) is passed again with what is true then;
* when the case was rescinded: skips the step (``AirflowSkipException``) before any side effect; the
  ``offboarding_rescind`` run undoes what can be undone.

The steps it guards: ``deletion.delete_member``, each ``offboard_member_batch`` / ``offboard_leaders`` of a
company, ``account_deregistration.send_deregistration_guide`` (the account-deregistration submission), and
``close_wecom_enterprise``. Operators resume through a method named :data:`RESUME_METHOD`
(``CaseOperator.resume_after_hold``, :class:`HeldLegalStepOperator`).

How often the trigger reads: the watchdog interval (``OFFBOARDING_WATCHDOG_INTERVAL_MINUTES``), divided by
the case's ``time_scale`` in a rehearsal — a release is noticed within one interval.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk import Context
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from offboarding.operators.base import Case
from offboarding.operators.company import LegalStepOperator

if TYPE_CHECKING:  # the controls' rules are imported when a task runs, not when dags/ is parsed
    from offboarding.cases.lifecycle import CaseControls

RESUME_METHOD = "resume_after_hold"


def hold_poll_interval_seconds(case: Case) -> float:
    """The watchdog interval, compressed by a rehearsal's time scale (never below the polling floor)."""
    from offboarding.alerting.schedule import watchdog_interval
    from offboarding.steps.takeover import poll_interval_seconds

    try:
        interval = watchdog_interval()
    except ValueError as err:
        raise AirflowFailException(str(err)) from None
    return poll_interval_seconds(interval, case.time_scale)


def rescinded_message(controls: CaseControls, what: str) -> str:
    rescind = controls.rescind
    assert rescind is not None
    return (
        f"{what} is not done: case {controls.case_id} was rescinded by {rescind.by} at {rescind.at} "
        f"({rescind.reason}); the offboarding_rescind run undoes what can be undone"
    )


def require_not_held(operator: Any, case: Case, context: Context, *, what: str) -> CaseControls:
    """The case's controls once it is neither held nor rescinded; defers while held, skips if rescinded.

    ``what`` is the step in the user's words ("deleting lisi"). Makes no WeCom call.
    """
    from offboarding import settings
    from offboarding.operators.controls import read_controls
    from offboarding.triggers.case_controls import CaseReleasedTrigger

    controls = read_controls(case, step=operator.task_id)
    if controls.rescinded:
        raise AirflowSkipException(rescinded_message(controls, what))
    if not controls.held:
        return controls
    hold = controls.hold
    assert hold is not None
    interval = hold_poll_interval_seconds(case)
    operator.log.warning(
        "%s waits: case %s is on hold since %s by %s because %s. Nothing irreversible runs until the hold "
        "is released (checking every %.1f s; no worker slot is held)",
        what,
        case.case_id,
        hold.since,
        hold.by,
        hold.reason,
        interval,
    )
    operator.defer(
        trigger=CaseReleasedTrigger(
            case_id=case.case_id,
            run_id=case.run_id,
            conn_id=settings.airflow_api_conn_id(),
            poll_interval_seconds=interval,
            what=what,
        ),
        method_name=RESUME_METHOD,
        timeout=None,
    )
    raise AssertionError("unreachable: defer() raises TaskDeferred")  # pragma: no cover


def resume_after_hold(operator: Any, context: Context, event: dict[str, Any] | None) -> Any:
    """The step again from the start after the hold ended (its gate reads the controls again)."""
    from offboarding.triggers.case_controls import RELEASED, RESCINDED

    status = (event or {}).get("status")
    if status not in (RELEASED, RESCINDED):
        message = (event or {}).get("message") or f"unexpected event {event!r}"
        raise AirflowFailException(
            f"{operator.task_id}: the wait for the case's hold to be released stopped: {message}; fix the "
            "cause (the connection offboarding_airflow_api, the plugin on the api-server), then clear this task"
        )
    operator.log.info("The case's hold ended (%s): %s starts again from its checks", status, operator.task_id)
    return operator.execute(context)


class HeldLegalStepOperator(LegalStepOperator):
    """A legal human step that is irreversible once done (the enterprise closure): it asks nobody while the
    case is on hold, and is skipped when the case was rescinded."""

    def execute(self, context: Context) -> Any:
        case = Case.from_context(context)
        require_not_held(self, case, context, what=f"{self.task_id} of case {case.case_id}")
        return super().execute(context)

    def resume_after_hold(self, context: Context, event: dict[str, Any] | None = None) -> Any:
        return resume_after_hold(self, context, event)
