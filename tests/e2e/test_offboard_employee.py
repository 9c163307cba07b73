"""``offboard_employee`` end to end: real Airflow, WeCom sandbox, the people answered by the responder.

Cases (run concurrently): a normal member with account deregistration (lisi), 250 customers and 120
customer groups (bigsales, deregistration revoked by a login during the cooling-off), the corp's
creator (zhangsan), a member already deleted (resigned01), 20 % injected transient faults (zhaoliu), a
dry run (lisi on its own sandbox), an approval rejected (disabled01), a legal representative (sunqi)
a finance owner whose deregistration review is rejected (zhouba), and a userid with '@', '..' and
capitals (Lin..Feng@corp.cn, a member with customers and a customer group).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pendulum
import pytest

from offboarding.airflow_api import InvalidConf, RunAlreadyExists
from offboarding.cli import main as verify_command

# Eleven concurrent cases on a small machine: the first test also waits for the slowest case (up to
# Rehearsal.wait's 900 s), longer than the suite's 600 s per-test default.
pytestmark = [pytest.mark.airflow, pytest.mark.slow, pytest.mark.timeout(1200)]

DAG = "offboard_employee"


def case(userid: str, **overrides: Any) -> dict[str, Any]:
    conf = {
        "userid": userid,
        "display_name": f"Rehearsal {userid}",
        "successor_userid": "wangwu",
        "last_working_day": "2026-11-20",
        "hr_owner": "hr",
        "approvers": ["approver"],
        "time_scale": 86400,
    }
    conf.update(overrides)
    return conf


CASES: dict[str, dict[str, Any]] = {
    "offboard-lisi": case("lisi", deregister_account=True, wedrive_space_ids=["space_lisi"]),
    "offboard-bigsales": case("bigsales", deregister_account=True),
    "offboard-zhangsan": case("zhangsan"),
    "offboard-resigned01": case("resigned01"),
    "offboard-zhaoliu": case("zhaoliu", wecom_conn_id="wecom_faulty"),
    "dryrun-offboard-zhengshi": case("zhengshi", dry_run=True, wecom_conn_id="wecom_dryrun"),
    "offboard-disabled01": case("disabled01"),
    "offboard-sunqi": case(
        "sunqi", role="legal_representative", airflow_user="sunqi", deregister_account=True
    ),
    "offboard-zhouba": case("zhouba", role="finance_owner", airflow_user="zhouba", deregister_account=True),
    # The user who triggers (admin) names themselves approver: refused by the first task.
    "offboard-selfapproved": case("selfapproved", approvers=["admin"]),
    # A userid with '@' and '..' (WeCom allows both): its case id spells them run-id-safe; WeCom is
    # called with the userid as it is.
    "offboard-lin.+.feng~corp.cn": case("Lin..Feng@corp.cn"),
}


@pytest.fixture(scope="module")
def runs(rehearsal: Any) -> Any:
    main = rehearsal.sandboxes["main"].control
    main.script_account("bigsales", login_during_cooling_off_after_days=3)
    main.script_account("zhouba", review="reject", reject_reason="账号存在未结清的企业微信支付款项")
    rehearsal.sandboxes["faulty"].control.set_faults(
        errcodes={"-1": 0.05, "6000": 0.05, "45033": 0.05}, http_5xx=0.05, seed=7
    )
    for run_id, conf in CASES.items():
        rehearsal.trigger(DAG, run_id, conf)
    return rehearsal


def finished(runs: Any, run_id: str) -> tuple[str, dict[str, str]]:
    state = runs.wait(DAG, run_id)["state"]
    tasks = runs.task_states(DAG, run_id)
    if state != "success":
        print(runs.failure_report(DAG, run_id))
    elif tasks.get("close_case") == "success":  # the evidence report is written once all is done
        assert runs.tasks_after_close(DAG, run_id) == [], run_id
    return state, tasks


def actions(runs: Any, run_id: str) -> list[str]:
    return [entry["action"] for entry in runs.ledger(run_id)]


def test_normal_member_is_backed_up_handed_over_deleted_and_deregistered(runs: Any) -> None:
    state, tasks = finished(runs, "offboard-lisi")
    assert state == "success", tasks
    sandbox = runs.sandboxes["main"].control
    lisi = sandbox.user("lisi")
    assert lisi["deleted"] is True
    # Every customer that could move went to the successor (the refusing one is reported, not moved).
    assert sandbox.account("lisi")["status"] == "deregistered"
    assert tasks["account_deregistration.verify_account_gone"] == "success"
    assert tasks["account_deregistration.handle_revocation"] == "skipped"
    # Submission, review (2 working days) and the 15-day cooling-off, in rehearsal time: under 2 minutes.
    tis = {ti["task_id"]: ti for ti in runs.api().list_task_instances(DAG, "offboard-lisi")}
    began = pendulum.parse(tis["account_deregistration.record_submission"]["start_date"])
    ended = pendulum.parse(tis["account_deregistration.verify_account_gone"]["end_date"])
    assert (ended - began).total_seconds() < 120, (began, ended)
    done = actions(runs, "offboard-lisi")
    order = [
        done.index(a) for a in ("backup.verified", "member.disabled", "approval.approved", "member.deleted")
    ]
    assert order == sorted(order), done
    assert "customers.takeover_follow_up" in done  # wm_lisi_012 refused the takeover
    # Reaching each legal deadline is evidence (written by its wait; the steps after it check it again).
    reached = {
        e["result"]["deadline"] for e in runs.ledger("offboard-lisi") if e["action"] == "deadline.reached"
    }
    assert reached == {"last_working_day", "cooling_off"}, reached
    report = (runs.case_dir("offboard-lisi") / "evidence" / "report.md").read_text()
    assert "lisi" in report and "approver" in report
    # Every entry is authenticated with the deployment's key, and the report names the anchor recorded in
    # Airflow's metadata, which the auditor's command checks the ledger against.
    assert "HMAC-SHA256 checked with the deployment's key" in report
    anchor = re.search(r"Anchor\*\*: `(\d+:[0-9a-f]{64})`", report)
    assert anchor is not None, report
    assert (
        verify_command(["evidence", "verify", str(runs.case_dir("offboard-lisi")), "--anchor", anchor[1]])
        == 0
    )
    assert "- **发起人 Triggered by**: `admin`" in report  # bug 9c
    # The deletion counted Airflow's own record of approve_deletion in this run (read over REST).
    (deleted,) = [e for e in runs.ledger("offboard-lisi") if e["action"] == "member.deleted"]
    (approval,) = [e for e in runs.ledger("offboard-lisi") if e["action"] == "approval.approved"]
    assert deleted["request"]["approved_by"] == "approver"
    assert (
        deleted["request"]["approval_ti_id"] == tis["approve_deletion"]["id"] == approval["result"]["ti_id"]
    )
    assert approval["result"]["run_id"] == "offboard-lisi"
    assert approval["result"]["manifest_sha256"] == deleted["request"]["manifest_sha256"]
    deletes = [
        w
        for w in sandbox.stats()["writes"]
        if w["path"] == "/cgi-bin/user/delete" and w["summary"].get("userid") == "lisi"
    ]
    assert len(deletes) == 1


def test_big_book_of_business_is_handed_over_in_batches(runs: Any) -> None:
    state, tasks = finished(runs, "offboard-bigsales")
    assert state == "success", tasks
    stats = runs.sandboxes["main"].control.stats()
    transfers = [
        w
        for w in stats["writes"]
        if w["path"].endswith("transfer_customer") and w["summary"].get("handover_userid") == "bigsales"
    ]
    assert len(transfers) >= 3  # 250 customers, at most 100 per call
    group_transfers = [w for w in stats["writes"] if "groupchat" in w["path"] and "transfer" in w["path"]]
    assert len(group_transfers) >= 2  # 120 groups, at most 100 per call
    # A login during the cooling-off revoked the deregistration: routed, recorded, case closed.
    assert tasks["account_deregistration.handle_revocation"] == "success"
    assert tasks["account_deregistration.verify_account_gone"] == "skipped"
    assert "deregistration.revoked" in actions(runs, "offboard-bigsales")


def test_creator_stops_cleanly_with_an_actionable_step(runs: Any) -> None:
    state, tasks = finished(runs, "offboard-zhangsan")
    assert state == "failed"
    assert tasks["deletion.delete_member"] == "failed"
    assert runs.sandboxes["main"].control.user("zhangsan")["deleted"] is False
    refused = [e for e in runs.ledger("offboard-zhangsan") if e["action"] == "member.delete_refused"]
    assert refused and "creator" in str(refused[-1]).lower()


def test_member_already_deleted_finishes(runs: Any) -> None:
    state, tasks = finished(runs, "offboard-resigned01")
    assert state == "success", tasks
    assert "member.deleted" in actions(runs, "offboard-resigned01")


def test_userid_with_at_sign_offboards_end_to_end(runs: Any) -> None:
    """Regression (issue 13): the form accepted a userid with '@' or '..' but the backup store refused its
    case id, so preflight failed. Now the whole case runs under its case id, in rehearsal, to the end: the
    member's customers and customer group are handed over, the member is deleted and the case closed.
    """
    case_id = "offboard-lin.+.feng~corp.cn"
    userid = "Lin..Feng@corp.cn"
    state, tasks = finished(runs, case_id)
    assert state == "success", tasks
    not_done = {t: s for t, s in tasks.items() if s not in ("success", "skipped")}
    assert not_done == {}, not_done
    for task in (
        "preflight.check_case",
        "deletion.delete_member",
        "deletion.transfer_resigned_customers",
        "close_case",
    ):
        assert tasks[task] == "success", (task, tasks)
    sandbox = runs.sandboxes["main"].control
    assert sandbox.user(userid)["deleted"] is True
    deletes = [
        w
        for w in sandbox.stats()["writes"]
        if w["path"] == "/cgi-bin/user/delete" and w["summary"].get("userid") == userid
    ]
    assert len(deletes) == 1
    transfers = [
        w
        for w in sandbox.stats()["writes"]
        if w["path"].endswith("transfer_customer") and w["summary"].get("handover_userid") == userid
    ]
    assert transfers, "the member's customers were not handed over"
    done = actions(runs, case_id)
    assert done[0] == "case.opened"
    order = [
        done.index(a) for a in ("backup.verified", "member.disabled", "approval.approved", "member.deleted")
    ]
    assert order == sorted(order), done
    assert (runs.case_dir(case_id) / "manifest.json").is_file()
    assert json.loads((runs.case_dir(case_id) / "case.json").read_text())["run_id"] == case_id
    report = (runs.case_dir(case_id) / "evidence" / "report.md").read_text()
    assert userid in report


def test_transient_faults_finish_with_exactly_one_delete(runs: Any) -> None:
    state, tasks = finished(runs, "offboard-zhaoliu")
    assert state == "success", tasks
    stats = runs.sandboxes["faulty"].control.stats()
    assert stats["injected_faults"] > 0
    deletes = [w for w in stats["writes"] if w["path"] == "/cgi-bin/user/delete"]
    assert len(deletes) == 1
    assert runs.sandboxes["faulty"].control.user("zhaoliu")["deleted"] is True


def test_dry_run_makes_no_write_call(runs: Any) -> None:
    state, tasks = finished(runs, "dryrun-offboard-zhengshi")
    assert state == "success", tasks
    stats = runs.sandboxes["dryrun"].control.stats()
    assert stats["write_calls"] == {}, stats["write_calls"]
    assert stats["calls"].get("/cgi-bin/user/get", 0) > 0  # it did read
    planned = [e for e in runs.ledger("dryrun-offboard-zhengshi") if e["action"] == "dry_run.planned"]
    paths = {call["path"] for e in planned for call in e["request"]["calls"]}
    assert {"/cgi-bin/user/update", "/cgi-bin/user/delete"} <= paths


def test_rejected_approval_deletes_nothing(runs: Any) -> None:
    state, tasks = finished(runs, "offboard-disabled01")
    assert state == "success", tasks
    assert tasks["approve_deletion"] == "success"
    assert tasks["deletion.delete_member"] == "skipped"
    assert tasks["close_case"] == "success"
    assert runs.sandboxes["main"].control.user("disabled01")["deleted"] is False
    assert "approval.rejected" in actions(runs, "offboard-disabled01")


def test_legal_representative_steps_are_assigned_to_the_person_and_block_deregistration(runs: Any) -> None:
    state, tasks = finished(runs, "offboard-sunqi")
    assert state == "success", tasks
    assert tasks["statutory_steps.hand_over_tax_role"] == "success"
    assert tasks["statutory_steps.register_legal_representative_change"] == "success"
    answered = {r.task_id: r for r in runs.responder.answered if r.run_id == "offboard-sunqi"}
    assert answered["statutory_steps.register_legal_representative_change"].user == "sunqi"
    assert answered["statutory_steps.hand_over_tax_role"].user == "sunqi"
    tis = {ti["task_id"]: ti for ti in runs.api().list_task_instances(DAG, "offboard-sunqi")}
    blocked_until = max(
        tis[t]["end_date"]
        for t in (
            "statutory_steps.hand_over_tax_role",
            "statutory_steps.register_legal_representative_change",
        )
    )
    assert tis["account_deregistration.record_submission"]["start_date"] > blocked_until


def test_rejected_review_routes_to_rejection_with_its_reason(runs: Any) -> None:
    state, tasks = finished(runs, "offboard-zhouba")
    assert state == "success", tasks
    assert tasks["statutory_steps.hand_over_tax_role"] == "success"
    assert tasks["statutory_steps.register_legal_representative_change"] == "skipped"
    assert tasks["account_deregistration.handle_rejection"] == "success"
    rejected = [e for e in runs.ledger("offboard-zhouba") if e["action"] == "deregistration.rejected"]
    assert "未结清" in str(rejected[-1]["result"])


def test_a_self_approval_is_refused_by_the_first_task_before_anything_is_written(runs: Any) -> None:
    state, tasks = finished(runs, "offboard-selfapproved")
    assert state == "failed"
    assert tasks["preflight.check_case"] == "failed"
    assert "approvers: admin is the user who triggered this case" in runs.failure_report(
        DAG, "offboard-selfapproved"
    )
    assert not (runs.case_dir("offboard-selfapproved") / "case.json").exists()


def test_invalid_forms_and_duplicate_cases_are_refused_at_trigger_time(runs: Any) -> None:
    api = runs.api()
    bad = {
        "userid": case("bad id!"),
        "last_working_day": case("okuser", last_working_day="2026-13-01"),
        "role": case("okuser", role="ceo"),
        "approvers": case("okuser", approvers=[]),
        "successor_userid": {k: v for k, v in case("okuser").items() if k != "successor_userid"},
    }
    for field, conf in bad.items():
        with pytest.raises(InvalidConf, match=field):
            api.trigger_dag_run(DAG, f"offboard-invalid-{field.replace('_', '-')}", conf)
    with pytest.raises(RunAlreadyExists):
        api.trigger_dag_run(DAG, "offboard-lisi", CASES["offboard-lisi"])
