"""LegalDeadlineSensor: parked while far off, deferred to DateTimeTrigger for the last hours, on the right wake
time; returns at once when past; refuses bad input."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pendulum
import pytest
from airflow.providers.standard.triggers.temporal import DateTimeTrigger
from airflow.sdk import DAG, BaseSensorOperator
from airflow.sdk.exceptions import AirflowRescheduleException, TaskDeferred

from offboarding.sensors.legal_deadline import ANCHOR_STATE_KEY, LegalDeadlineSensor


class InMemoryTaskStateStore:
    """Stands in for Airflow's ``context["task_state_store"]``, which talks to the task supervisor and
    so only exists inside a running task. Same get/set contract, kept in a dict."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.retention: dict[str, dt.timedelta | None] = {}

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def set(self, key: str, value: Any, *, retention: dt.timedelta | None = None) -> None:
        self.values[key] = value
        self.retention[key] = retention


def _deferred(operator: LegalDeadlineSensor, context: dict[str, Any] | None = None) -> TaskDeferred:
    with pytest.raises(TaskDeferred) as caught:
        operator.execute(context or {})  # type: ignore[arg-type]
    return caught.value


def test_real_time_parks_a_far_wait_until_hours_before_the_deadline() -> None:
    deadline = pendulum.now("Asia/Shanghai").add(days=10).start_of("day")
    operator = LegalDeadlineSensor(
        task_id="wait_for_cooling_off_end", deadline=deadline.isoformat(), label="cooling-off end"
    )
    with pytest.raises(AirflowRescheduleException) as parked:
        operator.execute({})  # type: ignore[arg-type]
    # Up for reschedule until 6 hours before: nothing held in the triggerer meanwhile.
    assert parked.value.reschedule_date == deadline - dt.timedelta(hours=6)


def test_real_time_defers_the_last_hours_to_the_deadline_itself() -> None:
    deadline = pendulum.now("Asia/Shanghai").add(hours=5, minutes=59)
    operator = LegalDeadlineSensor(
        task_id="wait_for_cooling_off_end", deadline=deadline.isoformat(), label="cooling-off end"
    )
    deferred = _deferred(operator)
    assert isinstance(deferred.trigger, DateTimeTrigger)  # the standard provider's: Airflow's cost per wait
    assert deferred.trigger.moment == deadline
    assert deferred.trigger.serialize() == (
        "airflow.providers.standard.triggers.temporal.DateTimeTrigger",
        {"moment": deadline.in_timezone("UTC"), "end_from_trigger": False},
    )
    assert deferred.method_name == "execute_complete"
    assert deferred.timeout is None


def test_the_triggerer_lead_is_the_deployments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OFFBOARDING_TIME_WAIT_TRIGGERER_HOURS", "0.5")
    deadline = pendulum.now("UTC").add(minutes=40)
    operator = LegalDeadlineSensor(task_id="wait_for_notice_period_end", deadline=deadline.isoformat())
    with pytest.raises(AirflowRescheduleException) as parked:
        operator.execute({})  # type: ignore[arg-type]
    assert parked.value.reschedule_date == deadline - dt.timedelta(minutes=30)
    monkeypatch.setenv("OFFBOARDING_TIME_WAIT_TRIGGERER_HOURS", "1")
    assert _deferred(operator).trigger.moment == deadline


@pytest.mark.parametrize("raw", ["0", "-1", "six", "nan", "inf"])
def test_a_bad_triggerer_lead_is_refused_by_name(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    from offboarding.settings import time_wait_triggerer_lead

    monkeypatch.setenv("OFFBOARDING_TIME_WAIT_TRIGGERER_HOURS", raw)
    with pytest.raises(ValueError, match="OFFBOARDING_TIME_WAIT_TRIGGERER_HOURS"):
        time_wait_triggerer_lead()


def test_a_rehearsal_at_86400_wakes_after_as_many_seconds_as_the_law_has_days() -> None:
    anchor = pendulum.now("UTC")
    deadline = anchor.add(days=15)
    operator = LegalDeadlineSensor(
        task_id="wait_for_cooling_off_end",
        deadline=deadline.isoformat(),
        anchor=anchor.isoformat(),
        time_scale="86400",  # as rendered from {{ params.time_scale }}
    )
    deferred = _deferred(operator)
    assert deferred.trigger.moment == anchor + dt.timedelta(seconds=15)
    assert deferred.timeout is None
    # the legal answer is unchanged: what the sensor reports on waking is the deadline itself
    result = operator.execute_complete({}, deferred.trigger.moment)  # type: ignore[arg-type]
    assert pendulum.parse(result["deadline"]) == deadline


def test_a_past_deadline_returns_without_deferring() -> None:
    operator = LegalDeadlineSensor(task_id="wait_for_notice_period_end", deadline="2025-10-10T00:00:00+08:00")
    result = operator.execute({})  # type: ignore[arg-type]
    assert result is not None
    assert result["deadline"] == "2025-10-10T00:00:00+08:00"
    assert pendulum.parse(result["reached_at"]) <= pendulum.now("UTC")


def test_a_rehearsal_whose_compressed_wait_is_over_returns_at_once() -> None:
    anchor = pendulum.now("UTC").subtract(minutes=2)
    operator = LegalDeadlineSensor(
        task_id="wait_for_notice_period_end",
        deadline=anchor.add(days=45),  # legally still weeks away
        anchor=anchor,
        time_scale=86400,  # ... but 45 s of rehearsal time, already gone
    )
    result = operator.execute({})  # type: ignore[arg-type]
    assert (
        result is not None
        and result["deadline"] == anchor.add(days=45).in_timezone("Asia/Shanghai").isoformat()
    )


def test_without_an_anchor_the_first_run_stores_one_and_a_retry_reuses_it() -> None:
    store = InMemoryTaskStateStore()
    deadline = pendulum.now("UTC").add(days=45)
    operator = LegalDeadlineSensor(task_id="wait", deadline=deadline, time_scale=86400)
    first = _deferred(operator, {"task_state_store": store})
    stored = pendulum.parse(store.values[ANCHOR_STATE_KEY])
    assert first.trigger.moment == stored + dt.timedelta(seconds=45)
    assert store.retention[ANCHOR_STATE_KEY] is not None
    assert store.retention[ANCHOR_STATE_KEY] > dt.timedelta(days=45)  # kept past the deadline

    retry = _deferred(operator, {"task_state_store": store})
    assert retry.trigger.moment == first.trigger.moment


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"deadline": "2026-12-01T00:00:00"}, r"^deadline must be timezone-aware \(got a naive datetime\)"),
        (
            {"deadline": dt.datetime(2026, 12, 1)},
            r"^deadline must be timezone-aware \(got a naive datetime\)",
        ),
        ({"deadline": "None"}, r"^deadline is empty"),
        ({"deadline": "next tuesday"}, r"^deadline must be an ISO datetime with an offset"),
        (
            {"deadline": "2026-12-01T00:00:00+08:00", "anchor": "2026-11-01 09:00", "time_scale": 60},
            r"^anchor must be timezone-aware \(got a naive datetime\)",
        ),
        (
            {"deadline": "2026-12-01T00:00:00+08:00", "time_scale": "fast"},
            r"^time_scale must be a number >= 1",
        ),
        ({"deadline": "2026-12-01T00:00:00+08:00", "time_scale": 0.5}, r"^time_scale must be a number >= 1"),
    ],
)
def test_bad_input_is_refused_before_anything_happens(kwargs: dict[str, Any], message: str) -> None:
    store = InMemoryTaskStateStore()
    operator = LegalDeadlineSensor(task_id="wait", **kwargs)
    with pytest.raises(ValueError, match=message):
        operator.execute({"task_state_store": store})  # type: ignore[arg-type]
    assert store.values == {}


def test_the_rendered_fields_show_the_deadline_in_local_time() -> None:
    operator = LegalDeadlineSensor(task_id="wait", deadline="{{ notice_end }}")
    operator.render_template_fields({"notice_end": "2025-09-30T16:30:00Z"})  # type: ignore[arg-type]
    assert operator.deadline_local == "2025-10-01 00:30 (Asia/Shanghai)"
    assert "deadline_local" in operator.template_fields


def test_execute_complete_reports_the_deadline_and_when_it_was_reached() -> None:
    operator = LegalDeadlineSensor(task_id="wait", deadline="2025-10-10T00:00:00+08:00")
    woke = pendulum.datetime(2025, 10, 9, 16, tz="UTC")  # DateTimeTrigger's event: the wake instant
    result = operator.execute_complete({}, woke)  # type: ignore[arg-type]
    assert set(result) == {"deadline", "reached_at"}
    assert result["deadline"] == "2025-10-10T00:00:00+08:00"
    with pytest.raises(RuntimeError, match="ended unexpectedly"):
        operator.execute_complete({}, None)  # type: ignore[arg-type]


def test_a_wait_deferred_by_the_previous_trigger_still_completes() -> None:
    """A deployment upgraded mid-wait: the old LegalDeadlineTrigger rows fire and the sensor takes their event."""
    from offboarding.triggers.legal_deadline import CLASSPATH, LegalDeadlineTrigger

    operator = LegalDeadlineSensor(task_id="wait", deadline="2025-10-10T00:00:00+08:00")
    assert f"{LegalDeadlineTrigger.__module__}.{LegalDeadlineTrigger.__name__}" == CLASSPATH
    event = {
        "status": "reached",
        "deadline": "2025-10-10T00:00:00+08:00",
        "wake_at": "2025-10-10T00:00:00+08:00",
    }
    result = operator.execute_complete({}, event)  # type: ignore[arg-type]
    assert set(result) == {"deadline", "reached_at"}
    assert result["deadline"] == "2025-10-10T00:00:00+08:00"
    with pytest.raises(RuntimeError, match="ended unexpectedly"):
        operator.execute_complete({}, {"status": "error"})  # type: ignore[arg-type]


def test_no_timeout_can_cut_a_legal_wait_short() -> None:
    with DAG("legal_wait_defaults", schedule=None, default_args={"execution_timeout": dt.timedelta(hours=1)}):
        operator = LegalDeadlineSensor(task_id="wait", deadline="2026-12-01T00:00:00+08:00")
    assert operator.execution_timeout is None
    assert isinstance(operator, BaseSensorOperator)
    # it never pokes; still, its sensor timeout is above any legal period, not [sensors] default_timeout
    assert operator.timeout > dt.timedelta(days=365).total_seconds()


def test_the_task_documentation_says_what_to_do_if_stalled() -> None:
    operator = LegalDeadlineSensor(
        task_id="wait",
        deadline="2026-12-01T00:00:00+08:00",
        label="notice period end",
        what_to_do_if_stalled="Check the triggerer is running (airflow jobs check --job-type TriggererJob).",
    )
    assert operator.doc_md is not None
    assert "notice period end" in operator.doc_md
    assert "Check the triggerer is running" in operator.doc_md


def _case_context() -> dict[str, Any]:
    from types import SimpleNamespace

    params = {"userid": "lisi", "backup_target": "test", "time_scale": 1}  # the root of backup_roots
    return {"params": params, "dag_run": SimpleNamespace(run_id="offboard-lisi", triggering_user_name="ops")}


def _reached(root: Path) -> list[Any]:
    from offboarding.backup.storage import BackupStore
    from offboarding.evidence.keys import key_from_environment
    from offboarding.evidence.ledger import EvidenceLedger

    ledger = EvidenceLedger(BackupStore(str(root)), "offboard-lisi", key=key_from_environment())
    return [e for e in ledger.entries() if e.action == "deadline.reached"]


def test_a_named_wait_records_deadline_reached_once_when_it_ends(backup_roots: Path) -> None:
    deadline = pendulum.datetime(2026, 11, 21, tz="Asia/Shanghai")
    operator = LegalDeadlineSensor(
        task_id="preflight.wait_for_last_working_day",
        deadline=deadline.isoformat(),
        label="last working day",
        deadline_name="last_working_day",
    )
    operator.execute(_case_context())  # type: ignore[arg-type]
    operator.execute_complete(_case_context(), deadline)  # type: ignore[arg-type]
    (entry,) = _reached(backup_roots)
    assert entry.step == "preflight.wait_for_last_working_day"
    assert entry.result["deadline"] == "last_working_day"
    assert entry.result["ends"] == deadline.isoformat()
    assert entry.result["ends_local"] == "2026-11-21 00:00 (Asia/Shanghai)"


def test_an_unnamed_wait_writes_no_ledger(backup_roots: Path) -> None:
    operator = LegalDeadlineSensor(task_id="w", deadline="2026-11-21T00:00:00+08:00")
    operator.execute(_case_context())  # type: ignore[arg-type]
    assert not (backup_roots / "offboard-lisi").exists()
