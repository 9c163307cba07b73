"""Expected-by instants, alert texts, recipients and the case info read from a run's conf."""

from __future__ import annotations

import datetime as dt
import json

import pendulum

from offboarding.alerting.airflow_source import error_lines_from_log, task_link
from offboarding.alerting.decide import FAILED, REMINDER, STALLED, Alert
from offboarding.alerting.expected import (
    human_step_expected_by,
    legal_wait_expected_by,
    parse_xcom_instant,
    task_expected_by,
)
from offboarding.alerting.messages import alert_markdown, describe_duration, pack
from offboarding.alerting.schedule import watchdog_interval
from offboarding.alerting.steps import HUMAN_STEP, LEGAL_WAIT, CaseInfo, WatchedStep
from offboarding.alerting.targets import APP_MESSAGE, ROBOT, Recipient, recipients_for
from offboarding.alerting.timing import AlertTiming
from offboarding.policy import StepDuration
from offboarding.timescale import TimeScale

T0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)
TIMING = AlertTiming(
    reminder_interval=dt.timedelta(hours=24),
    escalate_after_reminders=3,
    default_step_duration=StepDuration(2, "hours"),
    legal_wait_grace=dt.timedelta(hours=6),
    step_durations={"approve_deletion": StepDuration(1, "working_days")},
)


def test_xcom_instants_are_read_however_they_were_encoded() -> None:
    expected = pendulum.datetime(2026, 3, 3, tz="Asia/Shanghai")
    for value in ("2026-03-03T00:00:00+08:00", json.dumps("2026-03-03T00:00:00+08:00"), expected):
        assert parse_xcom_instant(value) == expected
    assert parse_xcom_instant("2026-03-03T00:00:00") is None  # naive: refused, never guessed
    assert parse_xcom_instant(None) is None
    assert parse_xcom_instant("not a date") is None


def test_human_step_is_due_at_its_expected_by() -> None:
    assert human_step_expected_by('"2026-03-03T00:00:00+08:00"', T0) == dt.datetime(
        2026, 3, 2, 16, tzinfo=dt.UTC
    )
    assert human_step_expected_by(None, T0) is None


def test_rehearsal_time_scale_compresses_from_the_start() -> None:
    # 3600x: an hour after the start is reached one second after the start
    assert human_step_expected_by((T0 + dt.timedelta(hours=1)).isoformat(), T0, 3600) == T0 + dt.timedelta(
        seconds=1
    )


def test_a_legal_wait_is_late_only_after_its_deadline_plus_grace() -> None:
    due = legal_wait_expected_by("2026-04-16T00:00:00+08:00", started_at=T0, grace=TIMING.legal_wait_grace)
    assert due == dt.datetime(2026, 4, 15, 22, tzinfo=dt.UTC)  # 16:00Z deadline + 6 h
    scaled = legal_wait_expected_by(
        (T0 + dt.timedelta(days=1)).isoformat(),
        anchor=T0.isoformat(),
        started_at=None,
        time_scale=86400,
        grace=dt.timedelta(days=1),
    )
    assert scaled == T0 + dt.timedelta(seconds=2)


def test_other_steps_use_the_policy_duration_or_the_default() -> None:
    friday_noon = dt.datetime(2026, 3, 6, 4, 0, tzinfo=dt.UTC)
    # 1 working day after Friday: 24:00 of Monday in Shanghai
    assert task_expected_by("approve_deletion", friday_noon, TIMING) == dt.datetime(
        2026, 3, 9, 16, tzinfo=dt.UTC
    )
    assert task_expected_by("snapshot_profile", T0, TIMING) == T0 + dt.timedelta(hours=2)
    assert task_expected_by("snapshot_profile", None, TIMING) is None


def make_step(**changes: object) -> WatchedStep:
    values: dict = {
        "dag_id": "offboard_employee",
        "run_id": "offboard-lisi",
        "task_id": "statutory_steps.stop_social_insurance",
        "try_number": 1,
        "state": "awaiting_input",
        "case": CaseInfo("offboard-lisi", "person", "李四 (lisi)"),
        "kind": HUMAN_STEP,
        "started_at": T0,
        "expected_by": T0 + dt.timedelta(days=7),
        "owners": ("hr_wang",),
        "link": "http://airflow.example/dags/offboard_employee/runs/offboard-lisi/tasks/x/required_actions?map_index=-1",
    }
    values.update(changes)
    return WatchedStep(**values)


def test_a_stalled_alert_names_case_step_owner_wait_and_link() -> None:
    text = alert_markdown(Alert(STALLED, make_step(), T0 + dt.timedelta(days=8, hours=3)))
    assert "李四 (lisi)" in text and "offboard-lisi" in text
    assert "`statutory_steps › stop_social_insurance`" in text
    assert "Owner: hr_wang" in text
    assert "(8 d 3 h)" in text  # waited
    assert "overdue by 1 d 3 h" in text
    assert "2026-03-02 09:00 (Asia/Shanghai)" in text
    assert "[Answer it in Airflow](http://airflow.example/dags/" in text


def test_reminders_and_escalations_say_so() -> None:
    text = alert_markdown(
        Alert(REMINDER, make_step(), T0 + dt.timedelta(days=10), reminder_number=4, escalate=True)
    )
    assert "Reminder #4 — escalated" in text


def test_a_failed_alert_carries_the_error() -> None:
    step = make_step(state="failed", kind=LEGAL_WAIT, error="ValueError: deadline is empty", expected_by=None)
    text = alert_markdown(Alert(FAILED, step, T0))
    assert "FAILED" in text
    assert "> Error: ValueError: deadline is empty" in text
    assert "[Open in Airflow]" in text


def test_durations_read_naturally() -> None:
    assert [describe_duration(dt.timedelta(seconds=s)) for s in (40, 600, 3600, 3900, 86400, 90000)] == [
        "40 s",
        "10 min",
        "1 h",
        "1 h 5 min",
        "1 d",
        "1 d 1 h",
    ]


def test_pack_fills_messages_up_to_the_byte_limit_and_tracks_their_alerts() -> None:
    blocks = [(n, "块" * 300) for n in range(7)]  # 900 bytes each
    packed = pack(blocks, 2048)
    assert [items for _, items in packed] == [[0, 1], [2, 3], [4, 5], [6]]
    assert all(len(message.encode()) <= 2048 for message, _ in packed)
    assert pack([("big", "x" * 5000)], 4096)[0][0].endswith("…(truncated)")


def test_recipients_case_first_then_default_then_escalation() -> None:
    env = {
        "OFFBOARDING_ALERT_WEBHOOK_CONN_ID": "robot_ops",
        "OFFBOARDING_ESCALATION_WEBHOOK_CONN_ID": "robot_boss",
    }
    plain = Alert(STALLED, make_step(), T0)
    assert recipients_for(plain, env) == [Recipient(ROBOT, "robot_ops")]
    assert recipients_for(plain, {}) == []
    case = CaseInfo(
        "c", "person", "x", webhook_conn_id="robot_hr", userids=("zhangsan",), wecom_conn_id="wecom_x"
    )
    own = Alert(REMINDER, make_step(case=case), T0, reminder_number=4, escalate=True)
    assert recipients_for(own, env) == [
        Recipient(ROBOT, "robot_hr"),
        Recipient(APP_MESSAGE, "wecom_x", ("zhangsan",)),
        Recipient(ROBOT, "robot_boss"),
    ]


def test_case_info_from_a_person_and_a_company_conf() -> None:
    person = CaseInfo.from_conf(
        "offboard_employee",
        "manual__1",
        {
            "userid": "LiSi",
            "display_name": "李四",
            "notify": {"webhook_conn_id": "r", "userids": ["a"]},
            "time_scale": 60,
        },
    )
    assert (person.case_id, person.kind, person.subject) == ("offboard-lisi", "person", "李四 (LiSi)")
    assert (person.webhook_conn_id, person.userids, person.time_scale) == ("r", ("a",), TimeScale(60))
    company = CaseInfo.from_conf("dissolve_company", "x", {"company_name": "某公司", "credit_code": "bad"})
    assert (company.case_id, company.kind, company.subject) == ("x", "company", "某公司 (bad)")
    assert company.time_scale.is_real_time
    # alerts never compress a time_scale no clock can use: it is read as real time
    for bad in (0.5, float("nan"), float("inf"), "fast", True):
        assert CaseInfo.from_conf("offboard_employee", "r", {"time_scale": bad}).time_scale == TimeScale(1)
    assert CaseInfo.from_conf("offboard_employee", "run-1", None).subject == "run-1"


def test_case_info_from_a_layoff_list() -> None:
    persons = [{"userid": f"u{n}", "successor_userid": "lead"} for n in range(3)]
    layoff = CaseInfo.from_conf(
        "offboard_layoff", "manual__2", {"list_id": "q4-east", "list_name": "华东优化", "persons": persons}
    )
    assert (layoff.case_id, layoff.kind, layoff.subject) == (
        "layoff-q4-east",
        "layoff",
        "华东优化 (3 persons)",
    )
    # a run of the layoff DAG whose form is not a list is still a layoff case, named by its run id
    odd = CaseInfo.from_conf("offboard_layoff", "layoff-x", {"userid": "lisi"})
    assert (odd.case_id, odd.kind) == ("layoff-x", "layoff")


def test_error_lines_from_a_structured_log() -> None:
    content = [
        {"event": "starting", "level": "info"},
        {
            "event": "Task failed with exception",
            "level": "error",
            "error_detail": [{"exc_type": "ValueError", "exc_value": "bad deadline"}],
        },
        {"event": "Marking task as FAILED", "level": "info"},
    ]
    assert error_lines_from_log(content) == ["ValueError: bad deadline"]
    assert error_lines_from_log("INFO ok\nERROR boom\n") == ["ERROR boom"]


def test_task_links_point_at_the_task_or_its_required_actions() -> None:
    assert task_link("http://a:8080/", "d", "run/1", "g.t") == "http://a:8080/dags/d/runs/run%2F1/tasks/g.t"
    assert task_link("http://a", "d", "r", "t", human=True).endswith("/tasks/t/required_actions?map_index=-1")


def test_watchdog_interval_from_the_environment() -> None:
    assert watchdog_interval({}) == dt.timedelta(minutes=15)
    assert watchdog_interval({"OFFBOARDING_WATCHDOG_INTERVAL_MINUTES": "0.5"}) == dt.timedelta(seconds=30)
    for bad in ("0", "-1", "soon", "nan"):
        try:
            watchdog_interval({"OFFBOARDING_WATCHDOG_INTERVAL_MINUTES": bad})
        except ValueError as err:
            assert "OFFBOARDING_WATCHDOG_INTERVAL_MINUTES" in str(err)
        else:
            raise AssertionError(f"{bad!r} was accepted")
