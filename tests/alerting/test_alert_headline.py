"""Every alert says in one line what is late, since when and who must act, and links the case's timeline."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from offboarding.alerting.airflow_source import WatchdogApi, airflow_base_url, collect_steps
from offboarding.alerting.decide import FAILED, REMINDER, STALLED, Alert
from offboarding.alerting.expected import task_expected_by
from offboarding.alerting.messages import alert_markdown, headline
from offboarding.alerting.steps import HUMAN_STEP, LEGAL_WAIT, TASK, CaseInfo, WatchedStep
from offboarding.alerting.timing import AlertTiming
from offboarding.cases_page.links import case_page_url
from offboarding.policy import StepDuration

T0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)  # 09:00 in Shanghai
TIMING = AlertTiming(
    reminder_interval=dt.timedelta(hours=24),
    escalate_after_reminders=3,
    default_step_duration=StepDuration(2, "hours"),
    legal_wait_grace=dt.timedelta(hours=6),
    step_durations={"approve_deletion": StepDuration(1, "working_days")},
)
CASE_LINK = "https://airflow.corp.example/offboarding/cases?dag_id=offboard_employee&run_id=offboard-lisi"


def step(**changes: Any) -> WatchedStep:
    values: dict[str, Any] = {
        "dag_id": "offboard_employee",
        "run_id": "offboard-lisi",
        "task_id": "statutory_steps.stop_social_insurance",
        "try_number": 1,
        "state": "awaiting_input",
        "case": CaseInfo("offboard-lisi", "person", "李四 (lisi)"),
        "kind": HUMAN_STEP,
        "started_at": T0,
        "expected_by": T0 + dt.timedelta(days=1),
        "owners": ("hr_wang", "hr_zhao"),
        "link": "https://airflow.corp.example/dags/offboard_employee/runs/offboard-lisi/tasks/x/required_actions",
        "case_link": CASE_LINK,
    }
    values.update(changes)
    return WatchedStep(**values)


def test_a_stalled_human_step_says_what_since_when_and_who_in_one_line() -> None:
    alert = Alert(STALLED, step(), T0 + dt.timedelta(days=1, hours=3))
    assert headline(alert) == (
        "stop_social_insurance of 李四 (lisi) (offboard-lisi) is late since 2026-03-03 09:00 "
        "(Asia/Shanghai), 3 h ago: hr_wang, hr_zhao must answer it in Airflow"
    )
    lines = alert_markdown(alert).splitlines()
    assert lines[1] == f"**{headline(alert)}**"  # right under the title
    assert lines[-1] == (
        f"[Case timeline]({CASE_LINK}) · [Answer it in Airflow]"
        "(https://airflow.corp.example/dags/offboard_employee/runs/offboard-lisi/tasks/x/required_actions)"
    )


def test_a_reminder_repeats_the_same_line() -> None:
    alert = Alert(REMINDER, step(), T0 + dt.timedelta(days=3), reminder_number=2)
    assert "is late since 2026-03-03 09:00 (Asia/Shanghai), 2 d ago: hr_wang, hr_zhao must answer" in (
        alert_markdown(alert)
    )


@pytest.mark.parametrize(
    ("kind", "owners", "who"),
    [
        (HUMAN_STEP, (), "its assignees must answer it in Airflow"),
        (LEGAL_WAIT, (), "ops must check why the wait did not end (is the triggerer running?)"),
        (TASK, (), "ops must check the task's log"),
    ],
)
def test_who_must_act_when_the_step_names_nobody(kind: str, owners: tuple[str, ...], who: str) -> None:
    alert = Alert(STALLED, step(kind=kind, owners=owners, state="deferred"), T0 + dt.timedelta(days=2))
    assert headline(alert).endswith(f": {who}")


def test_a_failed_step_says_when_it_started_and_that_ops_must_fix_it() -> None:
    alert = Alert(FAILED, step(state="failed", kind=TASK, expected_by=None, try_number=2), T0)
    assert headline(alert) == (
        "stop_social_insurance of 李四 (lisi) (offboard-lisi) failed (try 2, started 2026-03-02 09:00 "
        "(Asia/Shanghai)): ops must fix the cause and clear the task"
    )
    assert f"[Case timeline]({CASE_LINK}) · [Open in Airflow]" in alert_markdown(alert)


def test_the_line_stays_one_line_whatever_the_trigger_form_said() -> None:
    case = CaseInfo("offboard-lisi", "person", "李四\n> Owner: nobody (lisi)")
    alert = Alert(STALLED, step(case=case), T0 + dt.timedelta(days=2))
    assert "\n" not in headline(alert)
    assert "李四 > Owner: nobody (lisi)" in headline(alert)


def test_the_case_link_is_the_cases_page_filtered_to_the_run() -> None:
    assert case_page_url(
        "https://airflow.corp.example/", "offboard_employee", "manual__2026-03-02T01:00+00:00"
    ) == (
        "https://airflow.corp.example/offboarding/cases?dag_id=offboard_employee"
        "&run_id=manual__2026-03-02T01%3A00%2B00%3A00"
    )


def test_the_case_link_uses_airflows_api_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "https://airflow.corp.example/")
    assert airflow_base_url() == "https://airflow.corp.example/"
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "")
    assert airflow_base_url() is None


class _OneStalledStep(WatchdogApi):
    """The REST answers of one parked human step (what ``collect_steps`` reads), without a server."""

    def case_dag_ids(self) -> list[str]:
        return ["offboard_employee"]

    def watched_task_instances(self, dag_ids: list[str]) -> list[dict[str, Any]]:
        return [
            {
                "dag_id": "offboard_employee",
                "dag_run_id": "offboard-lisi",
                "task_id": "statutory_steps.stop_social_insurance",
                "state": "awaiting_input",
                "try_number": 1,
                "start_date": T0.isoformat(),
            }
        ]

    def open_case_runs(self, dag_ids: list[str]) -> dict[tuple[str, str], dict[str, Any]]:
        return {("offboard_employee", "offboard-lisi"): {"conf": {"userid": "lisi", "display_name": "李四"}}}

    answered = False

    def pending_human_steps(self) -> list[dict[str, Any]]:
        if self.answered:  # answered: Airflow no longer lists it as pending (response_received=false)
            return []
        ti = {
            "dag_id": "offboard_employee",
            "dag_run_id": "offboard-lisi",
            "task_id": "statutory_steps.stop_social_insurance",
            "map_index": -1,
        }
        return [{"task_instance": ti, "assigned_users": [{"id": "hr_wang", "name": "hr_wang"}]}]

    def xcom_value(self, *args: Any, **kwargs: Any) -> Any:
        return (T0 + dt.timedelta(days=1)).isoformat()


def test_collected_steps_link_the_case_under_the_base_url_else_the_ui_url() -> None:
    api = _OneStalledStep(
        "http://airflow-apiserver:8080", token="t", cases_base_url="https://airflow.corp.example"
    )
    [watched] = collect_steps(api, TIMING)
    assert watched.case_link == CASE_LINK and watched.owners == ("hr_wang",)
    [fallback] = collect_steps(_OneStalledStep("http://airflow-apiserver:8080", token="t"), TIMING)
    assert fallback.case_link.startswith("http://airflow-apiserver:8080/offboarding/cases?dag_id=")


def test_automatic_work_is_not_compressed_in_rehearsal_time_business_durations_are() -> None:
    # A running batch task of a rehearsal (time_scale 86400) is due after the policy's 2 hours of wall
    # time, not 0.08 s: it is not "stalled 6 s" while it works.
    assert task_expected_by("delete_batch", T0, TIMING, 86400) == T0 + dt.timedelta(hours=2)
    # A step with its own business duration (1 working day: 24:00 of Tuesday in Shanghai) is compressed.
    business = task_expected_by("approve_deletion", T0, TIMING, 86400)
    assert business is not None and T0 < business <= T0 + dt.timedelta(seconds=2)


def test_an_answered_step_not_yet_resumed_is_not_watched() -> None:
    # Between the answer and the triggerer resuming the task, Airflow still says awaiting_input: no
    # reminder may follow the answer.
    api = _OneStalledStep("http://airflow-apiserver:8080", token="t")
    api.answered = True
    assert collect_steps(api, TIMING) == []


class _FailedRunStep(_OneStalledStep):
    """The run is not open any more (failed): its conf comes from the run itself."""

    def open_case_runs(self, dag_ids: list[str]) -> dict[tuple[str, str], dict[str, Any]]:
        return {}

    def get_dag_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return {"conf": {"userid": "lisi", "display_name": "李四 (closed run)"}}


def test_a_step_of_a_run_not_listed_as_open_reads_its_run() -> None:
    [watched] = collect_steps(_FailedRunStep("http://airflow-apiserver:8080", token="t"), TIMING)
    assert watched.case.subject == "李四 (closed run) (lisi)"
