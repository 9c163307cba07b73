"""The responder against a real Airflow and a real sandbox: assigned users, the settle time, overrides."""

from __future__ import annotations

import datetime as dt
import io
import json
import threading
import time
from collections import defaultdict
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import pytest
import requests

from offboarding.airflow_api import AirflowApi
from offboarding.wecom import Contacts, WeComClient
from offboarding_dev.cli import main as cli_main
from offboarding_dev.rehearsal import Responder, StepReport
from offboarding_dev.rehearsal.answers import REVIEW_PASSED, REVIEW_REJECTED
from offboarding_dev.testing.airflow import RunningAirflow

pytestmark = [pytest.mark.airflow, pytest.mark.slow]

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
SETTLE = 3.0
# The watcher below polls every 50 ms; its first sighting can trail the responder's by one poll and
# one request, so the measured gap may be that much shorter than the responder's own.
WATCH_RESOLUTION = 0.3
FINAL = ("success", "failed")
DAG_ID = "rehearsal_steps"  # the DAG conftest.py writes


def person_conf(userid: str, **changes: Any) -> dict[str, Any]:
    """A person case whose evidence goes to the test deployment's default root (one folder per userid)."""
    conf = {
        "userid": userid,
        "display_name": f"演练 {userid}",
        "last_working_day": "2026-11-20",
        "successor_userid": "wangwu",
        "hr_owner": "hr",
        "approvers": ["approver"],
        "backup_target": "",
        "deregister_account": True,
        "time_scale": 86400,  # the responder answers only runs in rehearsal time
    }
    return conf | changes


class AwaitingWatcher(threading.Thread):
    """Polls a run's task instances every 50 ms and notes when each was first seen awaiting input."""

    def __init__(self, airflow: RunningAirflow, run_ids: list[str]) -> None:
        super().__init__(daemon=True)
        self.api = airflow.api("admin")
        self.run_ids = run_ids
        self.first_seen: dict[tuple[str, str], float] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            for run_id in self.run_ids:
                for ti in self.api.list_task_instances(DAG_ID, run_id):
                    if ti["state"] == "awaiting_input":
                        self.first_seen.setdefault((run_id, ti["task_id"]), time.time())
            self.stop.wait(0.05)

    def __enter__(self) -> AwaitingWatcher:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.join(10)
        self.api.close()


def answered_steps(airflow: RunningAirflow, run_id: str) -> dict[str, dict[str, Any]]:
    """The answered human steps of a run, by task id, straight from the REST API."""
    token = requests.post(
        f"{airflow.api_url}/auth/token",
        json={"username": "admin", "password": airflow.passwords["admin"]},
        timeout=30,
    ).json()["access_token"]
    body = requests.get(
        f"{airflow.api_url}/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/hitlDetails",
        params={"response_received": "true"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    ).json()
    return {item["task_instance"]["task_id"]: item for item in body["hitl_details"]}


def drive(
    responder: Responder, api: AirflowApi, run_ids: list[str], timeout: float = 240.0, on_pass: Any = None
) -> dict[str, list[StepReport]]:
    """Run the responder pass by pass until every run is final; returns the reports by task id."""
    reports: dict[str, list[StepReport]] = defaultdict(list)
    deadline = time.monotonic() + timeout
    while True:
        for report in responder.run_once():
            reports[f"{report.run_id}/{report.task_id}"].append(report)
        if on_pass is not None:
            on_pass(reports)
        states = {run_id: api.get_dag_run(DAG_ID, run_id)["state"] for run_id in run_ids}
        if all(state in FINAL for state in states.values()):
            return reports
        assert time.monotonic() < deadline, f"runs not finished after {timeout}s: {states}"
        time.sleep(0.3)


def ti_states(api: AirflowApi, run_id: str) -> dict[str, str]:
    return {ti["task_id"]: ti["state"] for ti in api.list_task_instances(DAG_ID, run_id)}


def delete_member(sandbox: Any, userid: str) -> None:
    """Delete a member through the WeCom API, as the product's deletion step does."""
    client = WeComClient(sandbox.corpid, sandbox.secret, base_url=sandbox.base_url)
    Contacts(client).delete_user(userid)


def instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_answers_each_step_as_its_assigned_user_only_after_it_settled(
    rehearsal_airflow: RunningAirflow, sandbox: Any, tmp_path: Path
) -> None:
    run_id = "offboard-resigned01"
    sandbox.control.script_account("resigned01", review_after_hours=0)
    api = rehearsal_airflow.api("admin")
    api.trigger_dag_run(DAG_ID, run_id, person_conf("resigned01"))
    responder = Responder(
        rehearsal_airflow.api_url,
        rehearsal_airflow.passwords,
        sandboxes=sandbox.base_url,
        run_ids=[run_id],
        settle_seconds=SETTLE,
    )
    submission = f"{run_id}/account_deregistration.record_submission"

    def person_submits_once_the_step_waits_for_them(reports: dict[str, list[StepReport]]) -> None:
        waiting = [r for r in reports[submission] if r.status == "waiting"]
        if len(waiting) == 3 and sandbox.control.account("resigned01")["submitted_at"] is None:
            assert not [r for r in reports[submission] if r.status == "answered"]
            sandbox.control.submit_deregistration("resigned01")

    with AwaitingWatcher(rehearsal_airflow, [run_id]) as watcher:
        reports = drive(responder, api, [run_id], on_pass=person_submits_once_the_step_waits_for_them)

    assert api.get_dag_run(DAG_ID, run_id)["state"] == "success", ti_states(api, run_id)
    states = ti_states(api, run_id)
    assert states["member_deleted"] == "success"
    assert states["account_deregistration.review_passed"] == "success"
    assert states["account_deregistration.review_rejected"] == "skipped"

    answers = answered_steps(rehearsal_airflow, run_id)
    expected = {
        "stop_social_insurance": ("hr", ["Done"]),
        "approve_deletion": ("approver", ["Approve"]),
        "account_deregistration.record_submission": ("resigned01", ["Done"]),
        "account_deregistration.confirm_review_outcome": ("resigned01", [REVIEW_PASSED]),
    }
    assert {
        task: (a["responded_by_user"]["id"], a["chosen_options"]) for task, a in answers.items()
    } == expected

    # Trap 11: every answer (server time of the PATCH) came >= SETTLE after the task was seen parked.
    for task in expected:
        gap = instant(answers[task]["responded_at"]).timestamp() - watcher.first_seen[(run_id, task)]
        assert gap >= SETTLE - WATCH_RESOLUTION, f"{task} answered {gap:.2f}s after it parked"
        answered = [r for r in reports[f"{run_id}/{task}"] if r.status == "answered"]
        assert answered[0].awaited_seconds is not None and answered[0].awaited_seconds >= SETTLE
        assert any(r.status == "settling" for r in reports[f"{run_id}/{task}"])

    form = answers["stop_social_insurance"]
    answered_day = instant(form["responded_at"]).astimezone(SHANGHAI).date().isoformat()
    assert form["params_input"] == {
        "stopped_on": answered_day,
        "reference": "REHEARSAL-stop_social_insurance",
        "confirmed": True,
        "channel": "online",
    }
    # The submission was answered from the sandbox, after the person submitted there.
    account = sandbox.control.account("resigned01")
    recorded = answers["account_deregistration.record_submission"]["params_input"]["submitted_at"]
    assert recorded.endswith("+08:00")
    assert instant(recorded) == instant(account["submitted_at"]).replace(microsecond=0)
    assert [r.status for r in reports[submission]].count("waiting") >= 3
    assert answers["account_deregistration.confirm_review_outcome"]["params_input"] == {"reason": None}


def test_per_run_overrides_and_the_sandbox_reviewer_decide_each_run(
    rehearsal_airflow: RunningAirflow, sandbox: Any, tmp_path: Path
) -> None:
    reason = "账号存在安全风险（演练）"
    for userid in ("zhengshi", "zhaoliu"):
        delete_member(sandbox, userid)
    sandbox.control.script_account("zhengshi", review="reject", reject_reason=reason, review_after_hours=0)
    sandbox.control.script_account("zhaoliu", review_after_hours=0)
    for userid in ("zhengshi", "zhaoliu"):
        sandbox.control.submit_deregistration(userid)
    api = rehearsal_airflow.api("admin")
    runs = {"zhengshi": "offboard-zhengshi", "zhaoliu": "offboard-zhaoliu"}
    for userid, run_id in runs.items():
        api.trigger_dag_run(DAG_ID, run_id, person_conf(userid))
    responder = Responder(
        rehearsal_airflow.api_url,
        rehearsal_airflow.passwords,
        sandboxes={"wecom_default": sandbox.base_url},
        overrides={"offboard-zhengshi": {"approve_deletion": "Reject"}},
        run_ids=list(runs.values()),
    )

    drive(responder, api, list(runs.values()))

    rejected, passed = (answered_steps(rehearsal_airflow, runs[u]) for u in ("zhengshi", "zhaoliu"))
    assert rejected["approve_deletion"]["chosen_options"] == ["Reject"]
    assert passed["approve_deletion"]["chosen_options"] == ["Approve"]
    review = rejected["account_deregistration.confirm_review_outcome"]
    assert (review["chosen_options"], review["params_input"]) == ([REVIEW_REJECTED], {"reason": reason})
    assert review["responded_by_user"]["id"] == "zhengshi"
    assert passed["account_deregistration.confirm_review_outcome"]["chosen_options"] == [REVIEW_PASSED]
    # The decision's answer is its XCom: the task recording the rejection reads the reason there.
    decided = api.get_xcom(DAG_ID, runs["zhengshi"], "account_deregistration.confirm_review_outcome")
    assert decided["params_input"] == {"reason": reason}

    zhengshi, zhaoliu = ti_states(api, runs["zhengshi"]), ti_states(api, runs["zhaoliu"])
    assert zhengshi["member_deleted"] == "skipped"  # the approval was rejected
    assert zhengshi["account_deregistration.review_rejected"] == "success"
    assert zhengshi["account_deregistration.review_passed"] == "skipped"
    assert zhaoliu["member_deleted"] == "success"
    assert zhaoliu["account_deregistration.review_passed"] == "success"


def test_the_cli_reports_steps_it_may_not_answer_and_answers_nothing_else(
    rehearsal_airflow: RunningAirflow, sandbox: Any, tmp_path: Path
) -> None:
    run_id = "offboard-wangwu"
    api = rehearsal_airflow.api("admin")
    # auditor is a viewer (Airflow answers 403); nobody has no password the responder knows.
    api.trigger_dag_run(DAG_ID, run_id, person_conf("wangwu", hr_owner="auditor", approvers=["nobody"]))
    deadline = time.monotonic() + 120
    while {"stop_social_insurance", "approve_deletion"} - {
        step["task_instance"]["task_id"]
        for step in api.pending_human_steps(DAG_ID, run_id)
        if step["task_instance"]["state"] == "awaiting_input"
    }:
        assert time.monotonic() < deadline, ti_states(api, run_id)
        time.sleep(0.5)
    # Both parked steps, the approval too, tell the stalled-step watchdog when they are due.
    for step in ("stop_social_insurance", "approve_deletion"):
        assert dt.datetime.fromisoformat(
            api.get_xcom(DAG_ID, run_id, step, key="expected_by")
        ) > dt.datetime.now(dt.UTC)
    users_file = tmp_path / "passwords.json"
    users_file.write_text(
        json.dumps(
            {"admin": rehearsal_airflow.passwords["admin"], "auditor": rehearsal_airflow.passwords["auditor"]}
        )
    )
    out = io.StringIO()
    with redirect_stdout(out):
        code = cli_main(
            [
                "rehearse-responder",
                "--once",
                "--api-url",
                rehearsal_airflow.api_url,
                "--users-file",
                str(users_file),
                "--sandbox-url",
                sandbox.base_url,
                "--run",
                run_id,
                "--poll-seconds",
                "0.5",
            ]
        )
    lines = {line.split()[2].rstrip(":"): line for line in out.getvalue().splitlines()}
    assert code == 1
    assert lines["stop_social_insurance"].startswith("refused")
    assert "as auditor" in lines["stop_social_insurance"]
    assert "HTTP 403" in lines["stop_social_insurance"]
    assert lines["approve_deletion"].startswith("no_user")
    assert "assigned to nobody" in lines["approve_deletion"]
    assert rehearsal_airflow.passwords["auditor"] not in out.getvalue()
    still_pending = {s["task_instance"]["task_id"] for s in api.pending_human_steps(DAG_ID, run_id)}
    assert {"stop_social_insurance", "approve_deletion"} <= still_pending
