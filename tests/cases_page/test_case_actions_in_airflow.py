"""The case lifecycle over REST on a real api-server: answers, rules against Airflow's record, rescind's effects."""

from __future__ import annotations

from typing import Any

import pendulum
import pytest
import requests
from lifecycle_airflow import (
    DAG_ID,
    future,
    lifecycle_airflow,
    past,
    person_conf,
    start_case,
    task_states,
    token,
    uid,
    wait_for,
)

from offboarding_dev.rehearsal.responder import wait_until_answerable

pytestmark = [pytest.mark.airflow, pytest.mark.slow, pytest.mark.timeout(1800)]

WAIT = "preflight.wait_for_last_working_day"


@pytest.fixture(scope="module")
def airflow() -> Any:
    return lifecycle_airflow()


def post(
    airflow: Any, user: str | None, case_id: str, action: str, body: Any, **headers: str
) -> requests.Response:
    if user is not None:
        headers["Authorization"] = f"Bearer {token(airflow, user)}"
    return requests.post(
        f"{airflow.api_url}/offboarding/api/cases/{case_id}/{action}", json=body, headers=headers, timeout=60
    )


def get(airflow: Any, case_id: str, user: str = "auditor") -> dict[str, Any]:
    response = requests.get(
        f"{airflow.api_url}/offboarding/api/cases/{case_id}",
        headers={"Authorization": f"Bearer {token(airflow, user)}"},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
def waiting_case(airflow: Any) -> str:
    """A case waiting (deferred) for a last working day 60 days away."""
    case_id = f"offboard-{uid('waiting')}"
    start_case(airflow, case_id, person_conf(case_id.removeprefix("offboard-"), future()), (WAIT, "deferred"))
    return case_id


def wait_instance(airflow: Any, case_id: str) -> dict[str, Any]:
    with airflow.api() as api:
        return next(ti for ti in api.list_task_instances(DAG_ID, case_id) if ti["task_id"] == WAIT)


def test_answers_401_403_404_422_and_refuses_a_cross_site_cookie_post(
    airflow: Any, waiting_case: str
) -> None:
    assert post(airflow, None, waiting_case, "hold", {"reason": "x"}).status_code == 401
    forbidden = post(airflow, "auditor", waiting_case, "hold", {"reason": "x"})
    assert forbidden.status_code == 403 and "may not edit" in forbidden.json()["detail"]["reason"]
    assert post(airflow, "hr_wang", "offboard-nobody_here", "hold", {"reason": "x"}).status_code == 404
    assert post(airflow, "hr_wang", "not-a-case", "hold", {"reason": "x"}).status_code == 404
    bad = post(airflow, "hr_wang", waiting_case, "hold", {})
    assert bad.status_code == 422 and bad.json()["detail"]["field"] == "reason"
    bad_day = post(airflow, "hr_wang", waiting_case, "reschedule", {"last_working_day": "2020-13-01"})
    assert bad_day.status_code == 422 and bad_day.json()["detail"]["field"] == "last_working_day"
    cookie = {"Cookie": f"_token={token(airflow, 'hr_wang')}", "Origin": "https://evil.example"}
    cross_site = requests.post(
        f"{airflow.api_url}/offboarding/api/cases/{waiting_case}/hold",
        json={"reason": "x"},
        headers=cookie,
        timeout=60,
    )
    assert cross_site.status_code == 403 and "cross-site" in cross_site.json()["detail"]["reason"]
    assert get(airflow, waiting_case)["history"] == []  # nothing recorded by any refused request


def test_hold_release_reschedule_and_correct_are_recorded_and_served(airflow: Any, waiting_case: str) -> None:
    held = post(airflow, "hr_wang", waiting_case, "hold", {"reason": "litigation LIT-7"})
    assert held.status_code == 202, held.text
    case = get(airflow, waiting_case)
    assert case["state"] == "on_hold" and case["phase"] == "preflight"
    assert case["hold"]["by"] == "hr_wang" and case["hold"]["reason"] == "litigation LIT-7"
    again = post(airflow, "ops_li", waiting_case, "hold", {"reason": "again"})
    assert again.status_code == 409
    assert again.json()["detail"]["since"] == case["hold"]["since"]
    assert post(airflow, "hr_wang", waiting_case, "release", {}).status_code == 202
    assert post(airflow, "hr_wang", waiting_case, "release", {}).status_code == 409

    day = future(3)
    first_try = wait_instance(airflow, waiting_case)
    moved = post(airflow, "hr_wang", waiting_case, "reschedule", {"last_working_day": day})
    assert moved.status_code == 202 and moved.json()["woken"] == [WAIT], moved.text
    # The deferred wait was cleared with the reschedule: it starts again (and defers again; the real wait
    # to the new day's end: tests/operators/test_reschedule.py, tests/e2e/test_case_lifecycle.py).
    again = wait_for(
        lambda: (
            (ti := wait_instance(airflow, waiting_case))["try_number"] > first_try["try_number"]
            and ti["state"] == "deferred"
            and ti
        ),
        120,
        "the wait to defer again",
        airflow,
    )
    fixed = post(
        airflow, "hr_wang", waiting_case, "correct", {"successor_userid": "succ_zhao", "reason": "typo"}
    )
    assert fixed.status_code == 202, fixed.text
    # Separation of duties, as the trigger form: the acting user may not become an approver.
    self_approval = post(airflow, "hr_wang", waiting_case, "correct", {"approvers": ["hr_wang"]})
    assert self_approval.status_code == 422 and self_approval.json()["detail"]["field"] == "approvers"

    case = get(airflow, waiting_case)
    assert case["state"] == "open"
    assert case["last_working_day"] == day
    assert case["corrections"] == {"successor_userid": "succ_zhao"}
    assert [h["action"] for h in case["history"]] == ["hold", "release", "reschedule", "correct"]
    assert case["history"][3]["reason"] == "typo" and case["history"][0]["by"] == "hr_wang"


def test_rescind_stops_the_case_clears_required_actions_and_starts_the_undo(airflow: Any) -> None:
    case_id = f"offboard-{uid('stays')}"
    start_case(
        airflow,
        case_id,
        person_conf(case_id.removeprefix("offboard-"), past()),
        ("approve_deletion", "awaiting_input"),
    )
    with airflow.api() as api:
        assert api.pending_human_steps(DAG_ID, case_id)  # the approval asks
    late = post(airflow, "hr_wang", case_id, "reschedule", {"last_working_day": future(5)})
    assert late.status_code == 409 and "handover.hand_over_customers" in late.json()["detail"]["reason"]
    no_reason = post(airflow, "hr_wang", case_id, "rescind", {"reason": " "})
    assert no_reason.status_code == 422

    answer = post(airflow, "hr_wang", case_id, "rescind", {"reason": "withdrew the resignation"})
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert {"approve_deletion", "deletion.delete_member", "close_case"} <= set(body["skipped"])
    assert body["rescind_run_id"] == f"rescind-{case_id}-{body['accepted']['id']}"
    states = task_states(airflow, case_id)
    assert states["approve_deletion"] == "skipped" and states["deletion.delete_member"] == "skipped"
    with airflow.api() as api:
        pending = [
            h
            for h in api.pending_human_steps(DAG_ID, case_id)
            if h["task_instance"]["state"] in ("awaiting_input", "deferred")
        ]
        assert pending == []  # Required Actions lists nothing of the case any more
        rescind_run = api.get_dag_run("offboarding_rescind", body["rescind_run_id"])
        assert rescind_run["conf"] == {
            "case_id": case_id,
            "dag_id": DAG_ID,
            "run_id": case_id,
            "reason": "withdrew the resignation",
            "action_id": body["accepted"]["id"],
        }
        api.wait_for_dag_run("offboarding_rescind", body["rescind_run_id"], timeout=180)
    case = wait_for(
        lambda: (c := get(airflow, case_id))["state"] == "rescinded" and c, 120, "rescinded", airflow
    )
    assert case["rescind"]["by"] == "hr_wang"
    assert post(airflow, "hr_wang", case_id, "hold", {"reason": "x"}).status_code == 409


def test_rescind_after_the_deletion_is_refused_naming_the_time(airflow: Any) -> None:
    case_id = f"offboard-{uid('gone')}"
    start_case(
        airflow,
        case_id,
        person_conf(case_id.removeprefix("offboard-"), past()),
        ("approve_deletion", "awaiting_input"),
    )
    with airflow.api("ops_li") as api:
        wait_until_answerable(api, DAG_ID, case_id, "approve_deletion")  # trap 11
        api.answer_human_step(DAG_ID, case_id, "approve_deletion", ["Approve"])
    wait_for(
        lambda: task_states(airflow, case_id).get("deletion.delete_member") == "success",
        120,
        "deletion",
        airflow,
    )
    refused = post(airflow, "hr_wang", case_id, "rescind", {"reason": "stays after all"})
    assert refused.status_code == 409
    detail = refused.json()["detail"]
    assert detail["reason"].startswith(f"irreversible since {detail['since']}: the member was deleted")
    assert "re-invite" in detail["can_still"]
    assert get(airflow, case_id)["history"] == []


def test_the_watchdog_alerts_the_corrected_notify_recipients(
    airflow: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from offboarding.alerting.airflow_source import (
        DAG_IDS_ENV,
        WatchdogApi,
        collect_steps,
        with_corrected_recipients,
    )
    from offboarding.alerting.decide import STALLED, Alert
    from offboarding.alerting.steps import HUMAN_STEP
    from offboarding.alerting.timing import AlertTiming

    corrected, kept = (f"offboard-{uid(name)}" for name in ("notify_fixed", "notify_kept"))
    form_notify = {"webhook_conn_id": "wecom_robot_hr", "userids": ["hr_wang"]}
    for case_id in (corrected, kept):
        conf = person_conf(case_id.removeprefix("offboard-"), future()) | {"notify": form_notify}
        start_case(airflow, case_id, conf, (WAIT, "deferred"))
    fixed = {"webhook_conn_id": None, "userids": ["ops_li"]}
    answer = post(airflow, "hr_wang", corrected, "correct", {"notify": fixed, "reason": "wrong robot"})
    assert answer.status_code == 202, answer.text

    monkeypatch.setenv(DAG_IDS_ENV, DAG_ID)
    api = WatchdogApi(airflow.api_url, username="auditor", password=airflow.passwords["auditor"])
    with api:
        steps = [
            s for s in collect_steps(api, AlertTiming.from_policy()) if s.case.case_id in (corrected, kept)
        ]
        # Collecting lists the steps, the open runs and the pending human steps (a page each here), then
        # reads each human step's due time and each failed step's error: no read per case, so a round
        # does not cost two requests for every case in flight.
        collected = api.requests_sent
        every = collect_steps(api, AlertTiming.from_policy())
        per_step = sum(1 for s in every if s.kind == HUMAN_STEP or s.state == "failed")
        assert {s.run_id for s in every} >= {corrected, kept}
        assert api.requests_sent - collected <= 3 + per_step, (api.requests_sent - collected, per_step)
        before = api.requests_sent
        now = pendulum.now("UTC")
        alerts = with_corrected_recipients([Alert(STALLED, s, now) for s in steps if s.task_id == WAIT], api)
        assert api.requests_sent - before == 2  # the corrections of the two alerted cases, nothing else
    recipients = {a.step.case.case_id: (a.step.case.webhook_conn_id, a.step.case.userids) for a in alerts}
    assert recipients == {corrected: (None, ("ops_li",)), kept: ("wecom_robot_hr", ("hr_wang",))}
    assert {s.case.userids for s in steps if s.task_id == WAIT} == {("hr_wang",)}  # the forms, as collected
