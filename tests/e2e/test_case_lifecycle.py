"""Case lifecycle in a real Airflow with the WeCom sandbox: a legal hold and "the person stays".

* ``offboard-zhaoliu`` waits for a last working day 30 days away (1800×: 24 min of wall time); it is
  rescheduled to 3 days away and goes on at the new date (a few minutes), not the old one; once its
  handover started a second reschedule is refused (409) naming the step.
* ``offboard-zhengshi`` is put on hold while it waits for the approval; the approver approves; the
  deletion waits (deferred, no WeCom call) until the hold is released, then deletes.
* ``offboard-lisi``: the responder plays "the person stays" at the approval (after the member was
  disabled): the case is rescinded, ``offboarding_rescind`` enables lisi again, puts back departments,
  tags and the app chat, hands groups and customers back — except ``wm_wangwu_001``, which came to lisi
  from wangwu just before, so a third on-job transfer in 90 days is refused (40128) and listed.

Own Airflow and sandbox (not the package's): the sandbox runs at 2880× (24 h of takeover in 30 s, the
90-day transfer window in 45 min) so the refused transfer stays inside WeCom's window.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from offboarding.airflow_api import AirflowApi, CaseActionRefused
from offboarding_dev.rehearsal.responder import wait_until_answerable

pytestmark = [pytest.mark.airflow, pytest.mark.slow, pytest.mark.timeout(2400)]

REPO = Path(__file__).resolve().parents[2]
DAG = "offboard_employee"
RESCIND_DAG = "offboarding_rescind"
SANDBOX_TIME_SCALE = 2880.0
USERS = ["admin", "hr", "approver", "legal"]
HOLD_CASE = "offboard-zhengshi"
RESCHEDULED_CASE = "offboard-zhaoliu"
RESCHEDULE_TIME_SCALE = 1800  # half an hour per second: 30 days are 24 min of wall time, 3 days 2.4 min
STAYS_CASE = "offboard-lisi"


def case(userid: str, last_working_day: str = "2026-11-20", time_scale: int = 86400) -> dict[str, Any]:
    return {
        "userid": userid,
        "display_name": f"Rehearsal {userid}",
        "successor_userid": "wangwu",
        "last_working_day": last_working_day,
        "hr_owner": "hr",
        "approvers": ["approver"],
        "time_scale": time_scale,
    }


def shanghai_day(days_from_today: int) -> str:
    import datetime as dt
    from zoneinfo import ZoneInfo

    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    return (today + dt.timedelta(days=days_from_today)).isoformat()


class WeCom:
    """Plain WeCom calls to the sandbox (test setup: what happened before the case); a fresh token each
    time (the sandbox's token lifetime runs in rehearsal time too)."""

    def __init__(self, sandbox: Any) -> None:
        self.base = sandbox.base_url
        self.credentials = {"corpid": sandbox.corpid, "corpsecret": sandbox.secret}

    def token(self) -> str:
        answer = requests.get(f"{self.base}/cgi-bin/gettoken", params=self.credentials, timeout=30).json()
        return str(answer["access_token"])

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        params = {"access_token": self.token()}
        return requests.post(f"{self.base}{path}", params=params, json=body, timeout=30).json()

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        params["access_token"] = self.token()
        return requests.get(f"{self.base}{path}", params=params, timeout=30).json()


def until(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 2.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout:.0f} s (last: {value!r})")
        time.sleep(interval)


@pytest.fixture(scope="module")
def lifecycle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    import json

    from offboarding_dev.rehearsal import PERSON_STAYS, Responder
    from offboarding_dev.rehearsal.samples import wecom_connection
    from offboarding_dev.sandbox.testing import running_sandbox
    from offboarding_dev.testing.airflow import running_airflow

    data_dir = tmp_path_factory.mktemp("lifecycle-data")
    with running_sandbox(seed="default", time_scale=SANDBOX_TIME_SCALE) as sandbox:
        wecom = WeCom(sandbox)
        connection = wecom_connection(
            sandbox, app_chat_ids=["chat_sales_weekly", "chat_other_app"], leavers_department_id=99
        )
        env = {
            "AIRFLOW_CONN_WECOM_DEFAULT": json.dumps(connection),
            "OFFBOARDING_DATA_DIR": str(data_dir),
            "OFFBOARDING_TOKEN_CACHE_URL": f"file://{data_dir}/token-cache",
            "OFFBOARDING_INCLUDE_DIR": str(REPO / "include"),
            "AIRFLOW__CORE__PARALLELISM": "6",
        }
        users = ",".join(f"{u}:{'admin' if u == 'admin' else 'user'}" for u in USERS)
        with running_airflow(REPO / "dags", users=users, extra_env=env, startup_timeout=600) as airflow:
            responder = Responder(
                airflow.api_url,
                dict(airflow.passwords),
                sandboxes={"wecom_default": sandbox.base_url},
                overrides={
                    HOLD_CASE: {"approve_deletion": "(answered by the test)"},
                    RESCHEDULED_CASE: {"approve_deletion": "(answered by the test)"},
                    STAYS_CASE: {"approve_deletion": PERSON_STAYS},
                },
            )
            stop = threading.Event()
            thread = threading.Thread(
                target=responder.run, args=(stop,), kwargs={"poll_seconds": 1.0}, daemon=True
            )
            thread.start()
            # Just before the case: wm_wangwu_001 came to lisi from wangwu (one on-job transfer), settled.
            moved = wecom.post(
                "/cgi-bin/externalcontact/transfer_customer",
                {
                    "handover_userid": "wangwu",
                    "takeover_userid": "lisi",
                    "external_userid": ["wm_wangwu_001"],
                },
            )
            assert moved["customer"] == [{"external_userid": "wm_wangwu_001", "errcode": 0}], moved
            until(
                lambda: "wm_wangwu_001" in sandbox.control.user("lisi")["customers"],
                60,
                "the earlier transfer",
            )
            api = airflow.api("admin")
            api.trigger_dag_run(
                DAG, RESCHEDULED_CASE, case("zhaoliu", shanghai_day(30), RESCHEDULE_TIME_SCALE)
            )
            for run_id, userid in ((HOLD_CASE, "zhengshi"), (STAYS_CASE, "lisi")):
                api.trigger_dag_run(DAG, run_id, case(userid))
            try:
                yield {
                    "airflow": airflow,
                    "sandbox": sandbox,
                    "wecom": wecom,
                    "responder": responder,
                    "data": data_dir,
                }
            finally:
                stop.set()
                thread.join(30)


def ledger_actions(data_dir: Any, case_id: str) -> list[str]:
    import json

    path = data_dir / "cases" / case_id / "evidence" / "ledger.jsonl"
    return [json.loads(line)["action"] for line in path.read_text().splitlines() if line.strip()]


def states(api: AirflowApi, run_id: str, dag_id: str = DAG) -> dict[str, str]:
    return {ti["task_id"]: ti["state"] for ti in api.list_task_instances(dag_id, run_id)}


def test_a_rescheduled_last_working_day_moves_the_wait_and_is_refused_once_the_handover_started(
    lifecycle: dict[str, Any],
) -> None:
    import datetime as dt

    airflow = lifecycle["airflow"]
    api = airflow.api("hr")
    wait = "preflight.wait_for_last_working_day"
    until(lambda: states(api, RESCHEDULED_CASE).get(wait) == "deferred", 600, "the wait for the day")
    run = api.get_dag_run(DAG, RESCHEDULED_CASE)
    started = dt.datetime.fromisoformat(run["run_after"].replace("Z", "+00:00"))
    old_day_reached = started + dt.timedelta(days=30) / RESCHEDULE_TIME_SCALE  # at the earliest

    new_day = shanghai_day(3)
    api.case_action(RESCHEDULED_CASE, "reschedule", {"last_working_day": new_day, "reason": "moved up"})
    until(lambda: states(api, RESCHEDULED_CASE).get(wait) == "success", 900, "the wait at the new day")
    reached = api.get_xcom(DAG, RESCHEDULED_CASE, wait)
    assert reached["last_working_day"] == new_day
    assert dt.datetime.fromisoformat(reached["reached_at"]) < old_day_reached  # not the old day

    handover = "handover.hand_over_customers"
    until(lambda: states(api, RESCHEDULED_CASE).get(handover) in ("running", "success"), 900, "the handover")
    with pytest.raises(CaseActionRefused, match="the handover started") as refused:
        api.case_action(RESCHEDULED_CASE, "reschedule", {"last_working_day": shanghai_day(5)})
    assert refused.value.status_code == 409
    assert api.get_case(RESCHEDULED_CASE)["last_working_day"] == new_day
    actions = ledger_actions(lifecycle["data"], RESCHEDULED_CASE)
    assert actions.index("case.reschedule") < actions.index("deadline.reached")


def test_a_hold_placed_while_waiting_for_the_approval_stops_the_deletion_until_released(
    lifecycle: dict[str, Any],
) -> None:
    airflow, sandbox = lifecycle["airflow"], lifecycle["sandbox"]
    api = airflow.api("admin")
    until(
        lambda: states(api, HOLD_CASE).get("approve_deletion") == "awaiting_input", 900, "the approval asked"
    )
    wait_until_answerable(api, DAG, HOLD_CASE, "approve_deletion")  # trap 11, before anyone answers
    held = api.case_action(HOLD_CASE, "hold", {"reason": "litigation hold LH-2026-17"})
    assert held is not None
    assert api.get_case(HOLD_CASE)["state"] == "on_hold"

    airflow.api("approver").answer_human_step(DAG, HOLD_CASE, "approve_deletion", ["Approve"])
    until(
        lambda: states(api, HOLD_CASE).get("deletion.delete_member") == "deferred", 600, "the deletion held"
    )
    time.sleep(10)  # held: still nothing deleted a while later
    assert states(api, HOLD_CASE)["deletion.delete_member"] == "deferred"
    assert sandbox.control.user("zhengshi")["deleted"] is False
    assert "/cgi-bin/user/delete" not in sandbox.control.stats()["write_calls"]

    api.case_action(HOLD_CASE, "release", {})
    run = api.wait_for_dag_run(DAG, HOLD_CASE, states=("success", "failed"), timeout=900, poll_interval=2.0)
    assert run["state"] == "success", states(api, HOLD_CASE)
    assert sandbox.control.user("zhengshi")["deleted"] is True
    actions = ledger_actions(lifecycle["data"], HOLD_CASE)
    assert actions.index("case.hold") < actions.index("case.release") < actions.index("member.deleted")


def test_the_person_stays_after_disable_is_undone_except_what_wecom_refuses(
    lifecycle: dict[str, Any],
) -> None:
    airflow, sandbox, wecom = lifecycle["airflow"], lifecycle["sandbox"], lifecycle["wecom"]
    api = airflow.api("admin")

    def rescind_run() -> str | None:
        runs = [
            r["dag_run_id"]
            for r in api.list_dag_runs(RESCIND_DAG)
            if r["dag_run_id"].startswith(f"rescind-{STAYS_CASE}-")
        ]
        return runs[0] if runs else None

    run_id = until(rescind_run, 900, "the responder's rescind")
    run = api.wait_for_dag_run(
        RESCIND_DAG, run_id, states=("success", "failed"), timeout=900, poll_interval=2.0
    )
    assert run["state"] == "success", states(api, run_id, RESCIND_DAG)
    assert [r for r in lifecycle["responder"].answered if r.status == "rescinded" and r.run_id == STAYS_CASE]

    lisi = sandbox.control.user("lisi")
    assert (lisi["status"], lisi["department"], lisi["deleted"]) == (1, [3], False)
    assert {1, 2} <= set(lisi["tags"])
    chat = wecom.get("/cgi-bin/appchat/get", chatid="chat_sales_weekly")["chat_info"]
    assert chat["owner"] == "lisi"
    customers = set(lisi["customers"])
    assert {f"wm_lisi_{i:03d}" for i in range(1, 13)} <= customers
    assert "wm_wangwu_001" not in customers  # refused by WeCom: listed, not dropped
    handed_back = api.get_xcom(RESCIND_DAG, run_id, "undo.hand_back_customers")
    assert [(f["item"], f["errcode"]) for f in handed_back["failed"]] == [("wm_wangwu_001", 40128)]
    assert handed_back["failed"][0]["reason"]

    asking = [
        step
        for step in api.pending_human_steps(DAG, STAYS_CASE)
        if step["task_instance"]["state"] in ("awaiting_input", "deferred")
    ]
    assert asking == []  # Required Actions lists nothing of the case any more
    assert api.get_case(STAYS_CASE)["state"] == "rescinded"
    actions = ledger_actions(lifecycle["data"], STAYS_CASE)
    assert "member.disabled" in actions and "member.deleted" not in actions
    assert (
        actions.index("case.rescind")
        < actions.index("rescind.member_enabled")
        < actions.index("case.rescinded")
    )
