"""Reschedule: the wait for the last working day and the steps after it use the effective day.

The wait is parked until hours before the end of the effective day, then deferred once to that end; a
reschedule clears it (the action's side, tested in ``tests/cases_page/test_case_actions_in_airflow.py``) so
it runs again with the new day. A wake at the old end after a later day was set makes it wait again.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pendulum
import pytest
from airflow.providers.standard.triggers.temporal import DateTimeTrigger
from airflow.sdk.exceptions import AirflowFailException, AirflowRescheduleException, TaskDeferred

from offboarding.cases import person_case_id
from offboarding.operators.base import Case
from offboarding.operators.deadlines import LAST_WORKING_DAY, require_deadline_passed
from offboarding.sensors.last_working_day import WaitForLastWorkingDaySensor


def day(offset: int) -> str:
    return pendulum.now("Asia/Shanghai").add(days=offset).date().isoformat()


def end_of(iso_day: str) -> pendulum.DateTime:
    return pendulum.parse(iso_day, tz="Asia/Shanghai").add(days=1).in_timezone("UTC")


def wait_task() -> WaitForLastWorkingDaySensor:
    return WaitForLastWorkingDaySensor(
        task_id="wait_for_last_working_day",
        deadline="2099-01-01T00:00:00+08:00",
        label="last working day",
        deadline_name=LAST_WORKING_DAY,
    )


def context_of(params: dict[str, Any], make_context: Any) -> dict[str, Any]:
    return make_context(params, task_id="preflight.wait_for_last_working_day", run_id=person_case_id(params))


def test_a_far_day_is_parked_then_waited_for_in_one_deferral_to_its_end(
    sample_person_case: Any, make_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    params = sample_person_case(last_working_day=day(30))
    with pytest.raises(AirflowRescheduleException) as parked:
        wait_task().execute(context_of(params, make_context))
    assert parked.value.reschedule_date == end_of(day(30)) - dt.timedelta(hours=6)
    # Run again within the triggerer lead (here: 40 days), it defers once, to the day's end.
    monkeypatch.setenv("OFFBOARDING_TIME_WAIT_TRIGGERER_HOURS", str(40 * 24))
    with pytest.raises(TaskDeferred) as deferred:
        wait_task().execute(context_of(params, make_context))
    trigger = deferred.value.trigger
    assert isinstance(trigger, DateTimeTrigger)  # Airflow's own time wait
    assert trigger.moment == end_of(day(30))
    assert deferred.value.timeout is None


def test_an_earlier_day_takes_effect_when_the_wait_runs_again(
    sample_person_case: Any, make_context: Any, case_controls: Any
) -> None:
    params = sample_person_case(last_working_day=day(30))
    task = wait_task()
    with pytest.raises(AirflowRescheduleException):
        task.execute(context_of(params, make_context))
    case_controls.reschedule(person_case_id(params), day(-1))

    result = task.execute_complete(context_of(params, make_context), {"status": "reached"})

    assert result is not None and result["last_working_day"] == day(-1)
    assert pendulum.parse(result["deadline"]) == end_of(day(-1))
    case = Case.from_context(context_of(params, make_context))
    reached = [e for e in case.ledger.entries() if e.action == "deadline.reached"]
    assert [pendulum.parse(e.result["ends"]) for e in reached] == [end_of(day(-1))]


def test_a_later_day_makes_the_wait_wait_again(
    sample_person_case: Any, make_context: Any, case_controls: Any
) -> None:
    params = sample_person_case(last_working_day=day(-1))
    case_controls.reschedule(person_case_id(params), day(10))
    task = wait_task()
    with pytest.raises(AirflowRescheduleException) as parked:
        task.execute_complete(context_of(params, make_context), pendulum.now("UTC"))
    assert pendulum.parse(task.deadline) == end_of(day(10))
    assert parked.value.reschedule_date == end_of(day(10)) - dt.timedelta(hours=6)


def test_the_steps_after_the_wait_check_the_effective_day(
    sample_person_case: Any, make_context: Any, case_controls: Any
) -> None:
    params = sample_person_case(last_working_day=day(30))
    context = context_of(params, make_context)
    case = Case.from_context(context)
    with pytest.raises(AirflowFailException, match="the last working day ends"):
        require_deadline_passed(case, LAST_WORKING_DAY, step="handover.disable_member", what="disabling lisi")
    case_controls.reschedule(person_case_id(params), day(-1))
    deadline = require_deadline_passed(
        case, LAST_WORKING_DAY, step="handover.disable_member", what="disabling lisi", context=context
    )
    assert deadline.ends == end_of(day(-1))
    assert deadline.basis["last_working_day"] == day(-1)


def test_an_unexpected_wake_up_fails(sample_person_case: Any, make_context: Any) -> None:
    params = sample_person_case()
    with pytest.raises(RuntimeError, match="ended unexpectedly"):
        wait_task().execute_complete(context_of(params, make_context), {"status": "error"})
