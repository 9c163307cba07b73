"""The whole stalled-step loop in a real Airflow: a human step left unanswered, the watchdog DAG every 6 s.

Exactly one first alert once the step is past due, a reminder later, nothing after it is answered.
Time is compressed 600x through the case's ``time_scale`` (the step is due "1 hour" = 6 s after it
parks; reminders "hourly" = every 6 s).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from e2e_airflow import DAG_ID, STEP, case_conf, e2e_airflow, task_state, wait_for

from offboarding_dev.rehearsal.responder import wait_until_answerable

pytestmark = [pytest.mark.airflow, pytest.mark.slow]


def _messages_about(sandbox: Any, case_id: str) -> list[dict[str, Any]]:
    return [m for m in sandbox.control.webhook_messages() if case_id in m["content"]]


def _at(message: dict[str, Any]) -> dt.datetime:
    return dt.datetime.fromisoformat(message["at"].replace("Z", "+00:00"))


def _finished_watchdog_runs_started_after(airflow: Any, moment: dt.datetime) -> list[dict[str, Any]]:
    with airflow.api() as api:
        runs = api.list_dag_runs("offboarding_watchdog")
    return [
        r
        for r in runs
        if r.get("state") in ("success", "failed")
        and r.get("start_date")
        and dt.datetime.fromisoformat(r["start_date"].replace("Z", "+00:00")) > moment
    ]


def test_one_alert_then_reminders_then_silence_once_answered() -> None:
    airflow, data, sandbox = e2e_airflow()
    run_id = "offboard-e2e_alert"
    with airflow.api() as api:
        api.trigger_dag_run(DAG_ID, run_id, case_conf("e2e_alert"))

    wait_for(lambda: task_state(airflow, run_id) == "awaiting_input", 120, "the human step to park", airflow)

    first = wait_for(lambda: _messages_about(sandbox, run_id), 120, "the first robot alert", airflow)
    assert len(first) == 1
    assert "Offboarding step stalled" in first[0]["content"]
    assert "`statutory_steps › stop_social_insurance`" in first[0]["content"]
    assert "Owner: hr_wang" in first[0]["content"]
    assert f"/dags/{DAG_ID}/runs/{run_id}/tasks/{STEP}/required_actions" in first[0]["content"]
    # One line: what is late, since when, who must act; and the case's timeline under [api] base_url.
    assert "**stop_social_insurance of " in first[0]["content"]
    assert f"({run_id}) is late since " in first[0]["content"]
    assert ": hr_wang must answer it in Airflow**" in first[0]["content"]
    timeline = f"[Case timeline]({airflow.api_url}/offboarding/cases?dag_id={DAG_ID}&run_id={run_id})"
    assert timeline in first[0]["content"]

    reminded = wait_for(
        lambda: [m for m in _messages_about(sandbox, run_id) if "Reminder #" in m["content"]],
        120,
        "a reminder",
        airflow,
    )
    stalled_alerts = [
        m for m in _messages_about(sandbox, run_id) if "Offboarding step stalled" in m["content"]
    ]
    assert len(stalled_alerts) == 1  # the first alert is never repeated, only reminded
    assert _at(reminded[0]) > _at(first[0])

    with airflow.api("hr_wang") as api:
        wait_until_answerable(api, DAG_ID, run_id, STEP)  # trap 11
        api.answer_human_step(DAG_ID, run_id, STEP, ["Done"])
    answered_at = dt.datetime.now(dt.UTC)
    wait_for(lambda: task_state(airflow, run_id) == "success", 120, "the answered step to finish", airflow)

    settled = wait_for(
        lambda: sorted(
            _finished_watchdog_runs_started_after(airflow, answered_at), key=lambda r: r["end_date"]
        ),
        120,
        "a watchdog round that started after the answer",
        airflow,
    )
    quiet_from = dt.datetime.fromisoformat(settled[0]["end_date"].replace("Z", "+00:00"))
    wait_for(
        lambda: len(_finished_watchdog_runs_started_after(airflow, quiet_from)) >= 2,
        120,
        "two more watchdog rounds",
        airflow,
    )
    late = [m for m in _messages_about(sandbox, run_id) if _at(m) > quiet_from]
    assert late == []
    state = (data / "alerts" / "state.json").read_text()
    assert run_id not in state  # forgotten once the step moved


def test_a_failed_step_is_alerted_once_with_its_error() -> None:
    airflow, _, sandbox = e2e_airflow()
    run_id = "offboard-e2e_failed"
    conf = case_conf("e2e_failed") | {"hr_owner": ""}  # nobody to answer: the step fails
    with airflow.api() as api:
        api.trigger_dag_run(DAG_ID, run_id, conf)
    wait_for(lambda: task_state(airflow, run_id) == "failed", 120, "the step to fail", airflow)
    failed_at = dt.datetime.now(dt.UTC)

    [alert] = wait_for(lambda: _messages_about(sandbox, run_id), 120, "the failure alert", airflow)
    assert "Offboarding step FAILED" in alert["content"]
    assert "no owner: the trigger form must name who answers this step" in alert["content"]

    wait_for(
        lambda: len(_finished_watchdog_runs_started_after(airflow, _at(alert))) >= 2,
        120,
        "two more watchdog rounds",
        airflow,
    )
    assert len(_messages_about(sandbox, run_id)) == 1  # never repeated
    assert _at(alert) > failed_at - dt.timedelta(seconds=1)


def test_a_human_steps_due_time_comes_with_its_listing_not_a_read_per_step(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from offboarding.alerting.airflow_source import DAG_IDS_ENV, WatchdogApi, collect_steps
    from offboarding.alerting.expected import parse_xcom_instant
    from offboarding.alerting.steps import HUMAN_STEP
    from offboarding.alerting.timing import AlertTiming
    from offboarding_dev.testing.airflow import recorded_paths

    airflow, _, _ = e2e_airflow()
    run_id = "offboard-e2e_due_rendered"
    with airflow.api() as api:
        api.trigger_dag_run(DAG_ID, run_id, case_conf("e2e_due_rendered"))
    wait_for(lambda: task_state(airflow, run_id) == "awaiting_input", 120, "the human step to park", airflow)
    with airflow.api() as api:
        step = next(ti for ti in api.list_task_instances(DAG_ID, run_id) if ti["task_id"] == STEP)
        pushed = api.get_xcom(DAG_ID, run_id, STEP, key="expected_by")
    # The due time is in Airflow's rendered fields of the step, the same instant as the ledger's XCom.
    assert parse_xcom_instant(step["rendered_fields"]["expected_by"]) == parse_xcom_instant(pushed)

    monkeypatch.setenv(DAG_IDS_ENV, DAG_ID)
    watchdog = WatchdogApi(airflow.api_url, username="auditor", password=airflow.passwords["auditor"])
    with watchdog:
        watchdog.login()
        with recorded_paths(watchdog) as paths:
            steps = collect_steps(watchdog, AlertTiming.from_policy())
    mine = [s for s in steps if s.run_id == run_id]
    assert [s.kind for s in mine] == [HUMAN_STEP] and mine[0].expected_by is not None
    assert not [p for p in paths if "/xcomEntries/" in p], paths  # no read per human step
    failed = sum(1 for s in steps if s.state == "failed")
    # Three paged listings (steps, open runs, pending human steps); for a failed step its log and, its run
    # being no longer open, the run.
    assert len(paths) <= 3 + 2 * failed, paths
