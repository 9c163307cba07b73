"""One watchdog round end to end except the REST listing: real state file, real sends to the sandbox.

The steps are handed in instead of read from Airflow's REST API (``collect=``); the whole loop with a
real Airflow is in ``test_watchdog_in_airflow.py``.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from offboarding.alerting.steps import HUMAN_STEP, CaseInfo, WatchedStep
from offboarding.alerting.timing import AlertTiming
from offboarding.alerting.watchdog import AlertDeliveryError, run_watchdog
from offboarding.policy import StepDuration

T0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)
TIMING = AlertTiming(dt.timedelta(hours=24), 3, StepDuration(2, "hours"), dt.timedelta(hours=6))


def human_step(case: CaseInfo, task_id: str = "approve_deletion") -> WatchedStep:
    return WatchedStep(
        dag_id="offboard_employee",
        run_id=case.case_id,
        task_id=task_id,
        try_number=1,
        state="awaiting_input",
        case=case,
        kind=HUMAN_STEP,
        started_at=T0,
        expected_by=T0 + dt.timedelta(hours=8),
        owners=("approver",),
        link=f"http://airflow.example/dags/offboard_employee/runs/{case.case_id}/tasks/{task_id}/required_actions",
    )


def round_at(now: dt.datetime, steps: list[WatchedStep]) -> dict[str, Any]:
    return run_watchdog(api=object(), timing=TIMING, now=now, collect=lambda api, timing, known_failed: steps)


def test_first_alert_then_silence_then_a_reminder(wecom_conns: Any, data_dir: Path) -> None:
    case = CaseInfo("offboard-lisi", "person", "李四 (lisi)", webhook_conn_id="wecom_robot_ops")
    steps = [human_step(case)]

    first = round_at(T0 + dt.timedelta(hours=9), steps)
    again = round_at(T0 + dt.timedelta(hours=10), steps)
    reminder = round_at(T0 + dt.timedelta(hours=33), steps)

    assert [first["alerts"], again["alerts"], reminder["alerts"]] == [1, 0, 1]
    messages = [m["content"] for m in wecom_conns.control.webhook_messages()]
    assert len(messages) == 2
    assert "Offboarding step stalled" in messages[0] and "李四 (lisi)" in messages[0]
    assert "Reminder #1" in messages[1]
    state = json.loads((data_dir / "alerts" / "state.json").read_text())
    assert state["steps"][steps[0].key]["reminders"] == 1

    round_at(T0 + dt.timedelta(hours=80), [])  # the step was answered
    assert json.loads((data_dir / "alerts" / "state.json").read_text())["steps"] == {}
    assert len(wecom_conns.control.webhook_messages()) == 2


def test_several_alerts_for_one_robot_share_one_message(wecom_conns: Any, data_dir: Path) -> None:
    cases = [
        CaseInfo(f"offboard-u{n}", "person", f"U{n}", webhook_conn_id="wecom_robot_ops") for n in range(3)
    ]
    summary = round_at(T0 + dt.timedelta(hours=9), [human_step(c) for c in cases])
    [message] = wecom_conns.control.webhook_messages()
    assert summary["alerts"] == 3
    assert all(f"offboard-u{n}" in message["content"] for n in range(3))


def test_the_deployment_default_robot_and_app_messages_to_userids(
    wecom_conns: Any, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OFFBOARDING_ALERT_WEBHOOK_CONN_ID", "wecom_robot_ops")
    default_case = CaseInfo("offboard-lisi", "person", "李四 (lisi)")
    userid_case = CaseInfo("offboard-wangwu", "person", "王五 (wangwu)", userids=("zhangsan",))
    round_at(T0 + dt.timedelta(hours=9), [human_step(default_case), human_step(userid_case)])

    [robot] = wecom_conns.control.webhook_messages()
    assert "offboard-lisi" in robot["content"] and "offboard-wangwu" not in robot["content"]
    [app] = wecom_conns.control.messages()
    assert app["touser"] == ["zhangsan"] and "offboard-wangwu" in app["content"]


def test_an_unreachable_recipient_fails_the_round_and_is_retried(wecom_conns: Any, data_dir: Path) -> None:
    broken = CaseInfo("offboard-lisi", "person", "李四", webhook_conn_id="wecom_robot_missing")
    fine = CaseInfo("offboard-wangwu", "person", "王五", webhook_conn_id="wecom_robot_ops")
    steps = [human_step(broken), human_step(fine)]

    with pytest.raises(AlertDeliveryError, match="robot connection wecom_robot_missing"):
        round_at(T0 + dt.timedelta(hours=9), steps)
    with pytest.raises(AlertDeliveryError):
        round_at(T0 + dt.timedelta(hours=10), steps)  # tried again: it never reached anyone

    contents = [m["content"] for m in wecom_conns.control.webhook_messages()]
    assert len(contents) == 1 and "offboard-wangwu" in contents[0]  # the good one went out once


def test_without_any_recipient_the_alert_is_logged_and_remembered(
    wecom_conns: Any, data_dir: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    steps = [human_step(CaseInfo("offboard-lisi", "person", "李四 (lisi)"))]
    assert round_at(T0 + dt.timedelta(hours=9), steps)["alerts"] == 1
    assert round_at(T0 + dt.timedelta(hours=10), steps)["alerts"] == 0
    assert "ALERT stalled" in caplog.text + capsys.readouterr().out
    assert wecom_conns.control.webhook_messages() == []
