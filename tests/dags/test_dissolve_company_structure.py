"""``dissolve_company`` reads like the checklist, and its edges keep the irreversible steps safe."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jinja2
import pytest

from offboarding.steps.batches import BATCH_SIZE, make_plan

REPO = Path(__file__).resolve().parents[2]
DAG_FILE = REPO / "dags" / "dissolve_company.py"

EXPECTED_TASKS = {
    "preflight.check_case",
    "preflight.confirm_procedure_eligibility",
    "preflight.procedure_eligible",
    "preflight.stop_not_eligible",
    "legal_representative_steps.confirm_tax_deregistration",
    "legal_representative_steps.confirm_social_insurance_closed",
    "dissolution_notice.record_notice_publication",
    "dissolution_notice.plan_notice_period",
    "dissolution_notice.wait_for_notice_period_end",
    "dissolution_notice.record_creditor_objections",
    "dissolution_notice.handle_creditor_objection",
    "dissolution_notice.resolve_creditor_objection",
    "dissolution_notice.objections_settled",
    "approve_member_deletion",
    "offboard_all_members.plan_member_batches",
    "offboard_all_members.offboard_member_batch",
    "offboard_all_members.offboard_leaders",
    "offboard_all_members.summarise_member_offboarding",
    "close_wecom_enterprise",
    "account_deregistration.choose_deregistration",
    "account_deregistration.deregistration_not_requested",
    "account_deregistration.guide_sent_or_not_needed",
    "account_deregistration.send_deregistration_guide",
    "account_deregistration.record_submission",
    "account_deregistration.plan_deadlines",
    "account_deregistration.confirm_review_outcome",
    "account_deregistration.wait_for_cooling_off_end",
    "account_deregistration.confirm_deregistration_outcome",
    "account_deregistration.handle_rejection",
    "account_deregistration.handle_revocation",
    "account_deregistration.verify_account_gone",
    "account_deregistration.deregistration_done",
    "close_case",
}


@pytest.fixture(scope="module")
def dag() -> Any:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAG_FILE))
    assert bag.import_errors == {}
    return bag.dags["dissolve_company"]


def upstream(dag: Any, task_id: str) -> set[str]:
    return set(dag.get_task(task_id).get_flat_relative_ids(upstream=True))


def test_tasks_and_groups_read_like_the_checklist(dag: Any) -> None:
    assert set(dag.task_ids) == EXPECTED_TASKS
    assert {
        "preflight",
        "legal_representative_steps",
        "dissolution_notice",
        "offboard_all_members",
        "account_deregistration",
    } <= set(dag.task_group_dict)


def test_every_task_tells_ops_what_it_does(dag: Any) -> None:
    assert [t.task_id for t in dag.tasks if not (t.doc_md or "").strip()] == []


def test_run_limits_are_deliberate_and_no_wait_has_a_sensor_timeout(dag: Any) -> None:
    assert dag.max_active_runs > 16
    assert dag.schedule is None
    wait = dag.get_task("dissolution_notice.wait_for_notice_period_end")
    assert wait.execution_timeout is None
    # A sensor that defers once with no trigger timeout; its own timeout (never applied) is above any
    # legal period, not the 7-day [sensors] default_timeout.
    assert wait.timeout > dt.timedelta(days=365).total_seconds()
    assert {"company_name", "credit_code", "procedure", "admin_userid", "deregister_admin_account"} <= set(
        dag.params
    )


def test_member_batches_are_one_mapped_task_a_few_at_a_time(dag: Any) -> None:
    from airflow.sdk.definitions.mappedoperator import MappedOperator

    batches = dag.get_task("offboard_all_members.offboard_member_batch")
    assert isinstance(batches, MappedOperator)
    assert batches.max_active_tis_per_dagrun == 4
    # 10,000 members (plus 3 leaders) are 50 mapped task instances, shown as "batch 7/50 (...)".
    members = [f"u{n:06d}" for n in range(1, 10_001)] + ["zhangsan", "admin01", "admin02"]
    plan = make_plan(members, admins=["zhangsan"], kept={"admin01": "successor", "admin02": "admin"})
    assert len(plan.regular) == 10_000 // BATCH_SIZE == 50
    seventh = SimpleNamespace(batch=plan.regular[6].to_xcom())
    label = jinja2.Template(batches.map_index_template).render(task=seventh)
    assert label == "batch 7/50 (members 1201–1400)"


def test_nothing_is_deleted_before_the_legal_steps_the_notice_and_the_approval(dag: Any) -> None:
    for task_id in ("offboard_all_members.offboard_member_batch", "offboard_all_members.offboard_leaders"):
        before = upstream(dag, task_id)
        assert {
            "approve_member_deletion",
            "offboard_all_members.plan_member_batches",
            "legal_representative_steps.confirm_tax_deregistration",
            "legal_representative_steps.confirm_social_insurance_closed",
            "dissolution_notice.objections_settled",
            "preflight.procedure_eligible",
        } <= before, task_id
    # The approval is the direct upstream of both: a rejection skips them.
    approval = dag.get_task("approve_member_deletion")
    assert {
        "offboard_all_members.offboard_member_batch",
        "offboard_all_members.offboard_leaders",
    } <= approval.downstream_task_ids
    # The approval shows the plan, and the leaders go after every other batch.
    assert "offboard_all_members.plan_member_batches" in upstream(dag, "approve_member_deletion")
    assert "offboard_all_members.offboard_member_batch" in upstream(
        dag, "offboard_all_members.offboard_leaders"
    )


def test_the_enterprise_is_closed_after_the_members_and_the_admins_guide(dag: Any) -> None:
    before = upstream(dag, "close_wecom_enterprise")
    assert {
        "offboard_all_members.summarise_member_offboarding",
        "account_deregistration.send_deregistration_guide",
    } <= before
    assert "close_wecom_enterprise" in upstream(dag, "account_deregistration.record_submission")
    assert "account_deregistration.deregistration_done" in upstream(dag, "close_case")
    # Directly: when no deregistration is asked, the group ends at once and must not close the case.
    assert "close_wecom_enterprise" in dag.get_task("close_case").upstream_task_ids


def test_answers_route_to_the_tasks_right_after_them(dag: Any) -> None:
    for task in dag.tasks:
        mapping = getattr(task, "options_mapping", None)
        if mapping:
            assert set(mapping.values()) <= task.downstream_task_ids, task.task_id
    assert dag.get_task("preflight.confirm_procedure_eligibility").options_mapping == {
        "Eligible": "preflight.procedure_eligible",
        "Not eligible": "preflight.stop_not_eligible",
    }


def test_human_step_forms_have_valid_defaults_and_an_owner(dag: Any) -> None:
    for task in dag.tasks:
        if hasattr(task, "options") and getattr(task, "params", None):
            task.params.validate()
        if hasattr(task, "evidence"):
            assert task.assignees, task.task_id


def test_the_dag_file_only_wires_building_blocks() -> None:
    tree = ast.parse(DAG_FILE.read_text(encoding="utf-8"))
    imported = {
        node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module is not None
    } | {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert imported <= {
        "__future__",
        "pendulum",
        "airflow.sdk",
        "offboarding.alerting",
        "offboarding.cases",
        "offboarding.policy",
        "offboarding.settings",  # the deployment's case limit (an environment variable, no import cost)
        "offboarding.workflows",
        "offboarding.workflows.deregistration",
    }
