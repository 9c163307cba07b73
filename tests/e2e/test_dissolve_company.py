"""``dissolve_company`` rehearsed end to end in a real Airflow against the sandbox.

A company of 2,000 members (general procedure, 45-day notice, a creditor objection that must be
resolved) and a small one (simplified procedure, 20-day notice). The legal representative, the finance
owner and the approvers answer through Airflow's REST API (the responder); in rehearsal time a legal day
lasts a second, so the notice waits last about 45 s and 20 s of wall time.
"""

from __future__ import annotations

from typing import Any

import pendulum
import pytest

from offboarding.airflow_api import InvalidConf
from offboarding.policy import notice_end
from offboarding.timescale import wall_time_for

pytestmark = [pytest.mark.airflow, pytest.mark.slow]

DAG = "dissolve_company"
LEADERS = {"zhangsan", "admin01", "admin02"}


def company(credit_code: str, procedure: str, conn_id: str, **overrides: Any) -> dict[str, Any]:
    conf = {
        "company_name": f"演练公司 {credit_code[-4:]}",
        "credit_code": credit_code,
        "procedure": procedure,
        "legal_representative": "legal",
        "finance_owner": "finance",
        "approvers": ["approver"],
        "successor_userid": "admin01",
        "admin_userid": "admin02",
        "deregister_admin_account": False,
        "wecom_conn_id": conn_id,
        "time_scale": 86400,
    }
    conf.update(overrides)
    return conf


BIG = "dissolve-91350100M000100Y43"
SMALL = "dissolve-91310115MA1K4ABCDD"


@pytest.fixture(scope="module")
def companies(rehearsal: Any) -> Any:
    rehearsal.trigger(DAG, BIG, company("91350100M000100Y43", "general", "wecom_company_big"))
    rehearsal.trigger(DAG, SMALL, company("91310115MA1K4ABCDD", "simplified", "wecom_company_small"))
    return rehearsal


def _notice_wait_matches_the_law(runs: Any, run_id: str, procedure: str) -> None:
    tis = {ti["task_id"]: ti for ti in runs.api().list_task_instances(DAG, run_id)}
    plan = runs.api().get_xcom(DAG, run_id, "dissolution_notice.plan_notice_period")
    published_on = pendulum.parse(plan["published_on"]).date()
    assert pendulum.parse(plan["notice_end"]) == notice_end(published_on, procedure)
    wake = wall_time_for(pendulum.parse(plan["notice_end"]), pendulum.parse(plan["recorded_at"]), 86400)
    ended = pendulum.parse(tis["dissolution_notice.wait_for_notice_period_end"]["end_date"])
    assert wake <= ended <= wake.add(seconds=30), (wake, ended)


def test_a_company_of_2000_members_is_wound_up_unattended(companies: Any) -> None:
    run = companies.wait(DAG, BIG, timeout=1500)
    tasks = companies.task_states(DAG, BIG)
    if run["state"] != "success":
        print(companies.failure_report(DAG, BIG))
    assert run["state"] == "success", tasks
    assert companies.tasks_after_close(DAG, BIG) == []
    sandbox = companies.sandboxes["company_big"].control
    state = sandbox.state()
    stats = sandbox.stats()
    deleted = [
        u
        for w in stats["writes"]
        if w["path"] in ("/cgi-bin/user/delete", "/cgi-bin/user/batchdelete")
        for u in (w["summary"].get("userids") or [w["summary"]["userid"]])
    ]
    assert len(deleted) == len(set(deleted)), "a member was deleted twice"
    assert len(deleted) >= 2000
    assert stats["errors"].get("45009", 0) == 0
    assert not LEADERS & set(deleted)
    assert state["members"]["deleted"] >= 2000
    # The objection was routed to the legal representative and resolved before members were removed.
    assert tasks["dissolution_notice.handle_creditor_objection"] == "success"
    assert tasks["dissolution_notice.resolve_creditor_objection"] == "success"
    _notice_wait_matches_the_law(companies, BIG, "general")
    bundle = companies.case_dir(BIG)
    assert (bundle / "evidence" / "report.md").exists()
    assert (bundle / "members" / "outcomes.csv").exists()
    done = [e["action"] for e in companies.ledger(BIG)]
    assert {
        "legal.confirm_tax_deregistration",
        "legal.confirm_social_insurance_closed",
        "case.closed",
    } <= set(done)


def test_simplified_procedure_waits_its_twenty_days(companies: Any) -> None:
    run = companies.wait(DAG, SMALL, timeout=1200)
    assert run["state"] == "success", companies.failure_report(DAG, SMALL)
    tasks = companies.task_states(DAG, SMALL)
    assert tasks["dissolution_notice.handle_creditor_objection"] == "skipped"
    _notice_wait_matches_the_law(companies, SMALL, "simplified")
    reached = [e["result"]["deadline"] for e in companies.ledger(SMALL) if e["action"] == "deadline.reached"]
    assert reached == ["notice_period"], reached  # by the wait; the batches and the closure checked it again
    # No admin account deregistration asked: the case still closes after the enterprise closure.
    assert tasks["account_deregistration.deregistration_not_requested"] == "success"
    assert companies.tasks_after_close(DAG, SMALL) == []


def test_bad_company_forms_are_refused_naming_the_field(companies: Any) -> None:
    api = companies.api()
    base = company("91350100M000100Y43", "general", "wecom_company_big")
    bad = {
        "credit_code": {**base, "credit_code": "91350100M000100Y44"},
        "procedure": {**base, "procedure": "express"},
        "legal_representative": {k: v for k, v in base.items() if k != "legal_representative"},
    }
    for field, conf in bad.items():
        with pytest.raises(InvalidConf, match=field):
            api.trigger_dag_run(DAG, f"dissolve-invalid-{field.replace('_', '-')}", conf)
