"""The legal side of ``dissolve_company``: the case check, the legal forms, the notice period, objections.

The forms are the tasks of the real DAG (``dags/dissolve_company.py``); an answer is handed to them the
way Airflow resumes a human step (``execute_complete(context, event)``). The notice period is computed
from the duration policy and the PRC calendar; the expected dates below were counted by hand.
"""

from __future__ import annotations

import datetime as dt
import json
import runpy
from pathlib import Path
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import DownstreamTasksSkipped
from airflow.sdk.exceptions import AirflowFailException

from offboarding.backup.roots import resolve_backup_root
from offboarding.backup.storage import BackupStore
from offboarding.evidence.keys import key_from_environment
from offboarding.evidence.ledger import EvidenceLedger
from offboarding.operators.company import OBJECTION_PATH, PUBLICATION_TASK_ID, PlanNoticePeriodOperator
from offboarding.policy import get_policy

REPO = Path(__file__).resolve().parents[2]
CASE_ID = "dissolve-91350100M000100Y43"
ANSWERED_AT = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def dag() -> Any:
    return runpy.run_path(str(REPO / "dags" / "dissolve_company.py"))["dag"]


@pytest.fixture
def company_case(tmp_path: Path) -> Any:
    def build(**overrides: Any) -> dict[str, Any]:
        params = {
            "company_name": "示例科技有限公司",
            "credit_code": "91350100M000100Y43",
            "procedure": "general",
            "legal_representative": "legal",
            "finance_owner": "finance",
            "approvers": ["approver"],
            "successor_userid": "wangwu",
            "admin_userid": "admin01",
            "deregister_admin_account": False,
            "backup_target": "test",
            "notify": {"webhook_conn_id": None, "userids": []},
            "wecom_conn_id": "wecom_default",
            "dry_run": False,
            "time_scale": 1,
        }
        params.update(overrides)
        return params

    return build


def ledger(params: dict[str, Any]) -> list[Any]:
    return list(
        EvidenceLedger(
            BackupStore(resolve_backup_root(params["backup_target"]).url), CASE_ID, key=key_from_environment()
        ).entries()
    )


def answer(task: Any, chosen: str, **evidence: Any) -> dict[str, Any]:
    """The event Airflow hands a human step when its owner answers (every form field present)."""
    params_input = {name: evidence.get(name) for name in task.evidence}
    return {
        "chosen_options": [chosen],
        "params_input": params_input,
        "responded_at": ANSWERED_AT,
        "responded_by_user": {"id": "legal", "name": "legal"},
    }


def context_for(make_context: Any, params: dict[str, Any], task: Any) -> dict[str, Any]:
    context = make_context(params, task_id=task.task_id, run_id=CASE_ID)
    context["ti"].task = task  # a branching answer looks at the task's place in the DAG
    context["ti"].map_index = -1
    return context


# -- the notice period --------------------------------------------------------------------------------


def plan_notice(make_context: Any, params: dict[str, Any], published_on: Any) -> dict[str, Any]:
    context = make_context(params, task_id="dissolution_notice.plan_notice_period", run_id=CASE_ID)
    context["ti"].xcoms[(PUBLICATION_TASK_ID, "return_value")] = {
        "chosen_options": ["Done"],
        "params_input": {"published_on": published_on, "reference": "https://www.gsxt.gov.cn/notice/1"},
        "responded_at": ANSWERED_AT,
        "responded_by_user": {"id": "legal", "name": "legal"},
    }
    return PlanNoticePeriodOperator(task_id="plan_notice_period").execute(context)


def test_general_notice_lasts_45_days_after_publication(make_context: Any, company_case: Any) -> None:
    params = company_case(procedure="general")

    plan = plan_notice(make_context, params, "2026-03-02")

    assert plan["notice_days"] == get_policy().company_deregistration.notice_days["general"] == 45
    assert plan["last_day"] == "2026-04-16"  # a Thursday: 2 March + 45 days
    assert plan["notice_end"] == "2026-04-17T00:00:00+08:00"
    assert plan["notice_end_local"] == "2026-04-17 00:00 (Asia/Shanghai)"
    assert plan["recorded_at"] == "2026-03-02T09:30:00+00:00"  # the rehearsal clock's anchor
    planned = [e for e in ledger(params) if e.action == "legal.notice_planned"]
    assert planned[-1].result["notice_end"] == plan["notice_end"]
    assert planned[-1].result["reference"] == "https://www.gsxt.gov.cn/notice/1"


def test_simplified_notice_ending_on_a_saturday_moves_to_monday(make_context: Any, company_case: Any) -> None:
    params = company_case(procedure="simplified")

    plan = plan_notice(make_context, params, "2026-03-08")  # + 20 days = Saturday 2026-03-28

    assert plan["notice_days"] == 20
    assert plan["last_day"] == "2026-03-30"
    assert plan["notice_end"] == "2026-03-31T00:00:00+08:00"


def test_notice_ending_in_the_national_day_holiday_moves_after_it(
    make_context: Any, company_case: Any
) -> None:
    params = company_case(procedure="general")

    plan = plan_notice(make_context, params, "2026-08-17")  # + 45 days = 2026-10-01, holiday to 10-07

    assert plan["last_day"] == "2026-10-08"
    assert plan["notice_end"] == "2026-10-09T00:00:00+08:00"


def test_notice_plan_refuses_a_publication_date_that_is_not_a_date(
    make_context: Any, company_case: Any
) -> None:
    with pytest.raises(AirflowFailException, match=r"published_on .*must be a date"):
        plan_notice(make_context, company_case(), "next Monday")


# -- the legal forms ----------------------------------------------------------------------------------


def test_tax_step_needs_the_certificate_or_the_reason_it_is_not_required(
    dag: Any, make_context: Any, company_case: Any
) -> None:
    task = dag.get_task("legal_representative_steps.confirm_tax_deregistration")
    params = company_case()
    context = context_for(make_context, params, task)

    with pytest.raises(ValueError, match=r"certificate_number .* is required.*issued_on .* is required"):
        task.execute_complete(context, answer(task, "清税证明 issued"))
    with pytest.raises(ValueError, match=r"reason .* is required"):
        task.execute_complete(context, answer(task, "Not required"))
    task.execute_complete(context, answer(task, "Not required", reason="简易注销: 未办理涉税事宜"))

    recorded = [e for e in ledger(params) if e.action == "legal.confirm_tax_deregistration"]
    assert recorded[-1].result["answer"] == "Not required"
    assert recorded[-1].result["reason"] == "简易注销: 未办理涉税事宜"
    assert recorded[-1].actor == "legal"


def test_social_insurance_step_needs_every_confirmation(
    dag: Any, make_context: Any, company_case: Any
) -> None:
    task = dag.get_task("legal_representative_steps.confirm_social_insurance_closed")
    params = company_case()
    context = context_for(make_context, params, task)
    evidence = {
        "every_employee_stopped": True,
        "arrears_settled": False,
        "account_closed": True,
        "closed_on": "2026-03-20",
        "reference": "SB-2026-0001",
    }

    with pytest.raises(ValueError, match=r"arrears_settled .* must be confirmed"):
        task.execute_complete(context, answer(task, "Done", **evidence))
    task.execute_complete(context, answer(task, "Done", **{**evidence, "arrears_settled": True}))

    recorded = [e for e in ledger(params) if e.action == "legal.confirm_social_insurance_closed"]
    assert recorded[-1].result["reference"] == "SB-2026-0001"


def test_not_eligible_routes_to_the_stop(dag: Any, make_context: Any, company_case: Any) -> None:
    task = dag.get_task("preflight.confirm_procedure_eligibility")
    params = company_case(procedure="simplified")
    context = context_for(make_context, params, task)

    with pytest.raises(ValueError, match=r"basis .* is required"):
        task.execute_complete(context, answer(task, "Eligible", reference="承诺书 2026-01"))
    with pytest.raises(DownstreamTasksSkipped) as skipped:
        task.execute_complete(context, answer(task, "Not eligible", reason="a creditor's claim is unpaid"))

    assert [t for t, _ in skipped.value.tasks] == ["preflight.procedure_eligible"]


def test_the_stop_says_what_to_do_and_records_it(dag: Any, make_context: Any, company_case: Any) -> None:
    task = dag.get_task("preflight.stop_not_eligible")
    params = company_case(procedure="simplified")
    context = make_context(params, task_id=task.task_id, run_id=CASE_ID)
    task.render_template_fields(context)

    with pytest.raises(AirflowFailException, match="trigger the case again with procedure=general"):
        task.execute(context)
    failed = [e for e in ledger(params) if e.action == "case.failed"]
    assert failed[-1].result["state"] == "stopped: the company is not eligible for simplified deregistration"


def test_a_creditor_objection_is_kept_for_the_legal_representative(
    dag: Any, make_context: Any, company_case: Any
) -> None:
    decision = dag.get_task("dissolution_notice.record_creditor_objections")
    params = company_case()
    context = context_for(make_context, params, decision)

    with pytest.raises(DownstreamTasksSkipped) as skipped:
        decision.execute_complete(context, answer(decision, "No objections"))
    assert [t for t, _ in skipped.value.tasks] == ["dissolution_notice.handle_creditor_objection"]
    objection = answer(
        decision,
        "Objection received",
        creditor="某供应商",
        claim="货款 12,000 元未付",
        received_on="2026-04-10",
    )
    decision.execute_complete(context, objection)  # the join follows the objection: nothing skipped
    context["ti"].xcoms[(decision.task_id, "return_value")] = objection

    result = dag.get_task("dissolution_notice.handle_creditor_objection").execute(context)

    assert result["objection"]["creditor"] == "某供应商"
    stored = json.loads(
        BackupStore(resolve_backup_root(params["backup_target"]).url).read_bytes(CASE_ID, OBJECTION_PATH)
    )
    assert stored["objection"]["claim"] == "货款 12,000 元未付"
    assert [e.action for e in ledger(params)][-1] == "legal.creditor_objection_received"


# -- the case check -----------------------------------------------------------------------------------


def test_check_case_accepts_a_company_and_claims_its_folder(
    dag: Any, wecom_conn: Any, make_context: Any, company_case: Any
) -> None:
    params = company_case()
    task = dag.get_task("preflight.check_case")

    result = task.execute(make_context(params, task_id=task.task_id, run_id=CASE_ID))

    assert result["case_id"] == CASE_ID and result["admin_userid"] == "admin01"
    assert BackupStore(resolve_backup_root(params["backup_target"]).url).exists(CASE_ID, "case.json")


def test_check_case_refuses_deregistering_an_admin_nobody_named(
    dag: Any, wecom_conn: Any, make_context: Any, company_case: Any
) -> None:
    params = company_case(admin_userid="", deregister_admin_account=True)
    task = dag.get_task("preflight.check_case")

    with pytest.raises(AirflowFailException, match="admin_userid: is required when deregister_admin_account"):
        task.execute(make_context(params, task_id=task.task_id, run_id=CASE_ID))
    assert not BackupStore(resolve_backup_root(params["backup_target"]).url).exists(CASE_ID, "case.json")


# -- what the approvers and the legal representative see ----------------------------------------------


def test_the_approval_shows_the_member_plan_and_the_notice(
    dag: Any, make_context: Any, company_case: Any
) -> None:
    task = dag.get_task("approve_member_deletion")
    context = make_context(company_case(), task_id=task.task_id, run_id=CASE_ID)
    context["ti"].xcoms[("offboard_all_members.plan_member_batches", "plan_summary")] = {
        "members": 10_003,
        "batches": 50,
        "batch_size": 200,
        "to_delete": 10_001,
        "kept": {"wangwu": "successor: holds the customers", "admin01": "admin: closes the enterprise"},
        "admins_deleted_last": ["zhangsan"],
    }
    context["ti"].xcoms[("dissolution_notice.plan_notice_period", "return_value")] = {
        "procedure_name": "一般注销 (general deregistration)",
        "published_on": "2026-03-02",
        "notice_end_local": "2026-04-17 00:00 (Asia/Shanghai)",
    }

    task.render_template_fields(context)

    assert "10003 members in 50 batches of up to\n200; **10001 will be deleted**" in task.body
    assert "`wangwu` (successor: holds the customers); `admin01` (admin: closes the enterprise)" in task.body
    assert "ended\n2026-04-17 00:00 (Asia/Shanghai)" in task.body
    assert task.subject == "Approve removing every member of 示例科技有限公司 from WeCom"


def test_the_closure_warns_about_members_the_plan_did_not_keep(
    dag: Any, make_context: Any, company_case: Any
) -> None:
    task = dag.get_task("close_wecom_enterprise")
    context = make_context(company_case(), task_id=task.task_id, run_id=CASE_ID)
    context["ti"].xcoms[("offboard_all_members.summarise_member_offboarding", "return_value")] = {
        "done": "10000 of 10003 members offboarded, 3 kept until the enterprise is dissolved",
        "members_left_in_wecom": 4,
        "unexpected_members_left": ["newcomer"],
    }

    task.render_template_fields(context)

    assert "10000 of 10003 members offboarded" in task.body
    assert "members the plan did not keep: newcomer" in task.body
    assert "WITHOUT a backup" in task.body
    assert "The admin `admin01` dissolves the enterprise" in task.body
