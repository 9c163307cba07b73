"""DAG-folder integrity: every DAG parses, reads like a checklist, and sets its limits deliberately."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DAGS = REPO / "dags"


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    started = time.perf_counter()
    bag = DagBag(dag_folder=str(DAGS))
    elapsed = time.perf_counter() - started
    record = Path(os.environ["AIRFLOW_HOME"]) / "dag_parse_time.json"
    record.write_text(json.dumps({"seconds": elapsed, "dags": sorted(bag.dag_ids)}))
    print(f"parsed {len(bag.dag_ids)} DAGs from {DAGS} in {elapsed:.2f}s")
    return bag


def test_no_import_errors(dagbag) -> None:
    assert dagbag.import_errors == {}


EXPECTED_DAGS = {
    "offboard_employee",
    "dissolve_company",
    "offboard_layoff",
    "offboarding_watchdog",
    "offboarding_backup_retention",
    "offboarding_rescind",
}


def test_expected_dags_exist(dagbag) -> None:
    assert set(dagbag.dag_ids) >= EXPECTED_DAGS


def test_the_folder_holds_exactly_these_dags(dagbag) -> None:
    # A DAG added (or a helper's DAG left behind in dags/) changes this on purpose, with its docs page.
    assert len(dagbag.dag_ids) == 6, sorted(dagbag.dag_ids)
    assert set(dagbag.dag_ids) == EXPECTED_DAGS


def test_every_task_tells_ops_what_it_does(dagbag) -> None:
    missing = [f"{d.dag_id}.{t.task_id}" for d in dagbag.dags.values() for t in d.tasks if not t.doc_md]
    assert missing == []


CASE_DAGS = ("offboard_employee", "dissolve_company", "offboard_layoff")


def test_limits_are_set_deliberately(dagbag) -> None:
    for dag in dagbag.dags.values():
        if dag.dag_id in CASE_DAGS:
            # Long legal waits keep case runs active: the default of 16 would queue the 17th case.
            # A backstop, not a working limit: 10,000 cases in flight are not queued (issue 15).
            assert dag.max_active_runs >= 1000, dag.dag_id
        assert dag.schedule is None or dag.timetable is not None
        for task in dag.tasks:
            # A 45-day wait must never be cut by the 7-day sensor default or by execution_timeout.
            assert task.execution_timeout is None or task.execution_timeout.total_seconds() < 3600, (
                task.task_id
            )
            timeout = getattr(task, "timeout", None)
            if timeout is not None:  # a sensor's timeout is seconds (a number); a trigger's a timedelta
                seconds = timeout.total_seconds() if hasattr(timeout, "total_seconds") else float(timeout)
                assert seconds != 604800, f"{task.task_id} uses the 7-day sensor default"


def test_the_case_forms_are_the_dags_and_no_task_carries_a_copy(dagbag) -> None:
    """Parse cost: Airflow copies a DAG's params into each task built after them; ours are attached after
    the tasks, and a task reads them from its DAG when it runs."""
    from offboarding.cases import company_params, person_params

    for dag_id, form in (("offboard_employee", person_params()), ("dissolve_company", company_params())):
        dag = dagbag.dags[dag_id]
        assert set(dag.params) == set(form) and len(form) >= 5
        for task in dag.tasks:
            assert not set(getattr(task, "params", None) or {}) & set(form), task.task_id


def test_human_step_forms_have_valid_defaults(dagbag) -> None:
    """Trap: a HITL form param whose default fails its own schema fails the task before it waits."""
    for dag in dagbag.dags.values():
        for task in dag.tasks:
            if getattr(task, "params", None) and hasattr(task, "options"):
                task.params.validate()


def test_human_step_forms_carry_their_evidence_fields(dagbag) -> None:
    """Every evidence field reaches the form; the DAG's own params never do."""
    from offboarding.operators.human_step import HumanStepMixin

    steps = [t for d in dagbag.dags.values() for t in d.tasks if isinstance(t, HumanStepMixin)]
    assert len(steps) >= 10
    for step in steps:
        assert set(step.serialized_params) == set(step.evidence), step.task_id


def test_a_person_case_closes_after_the_deletion_and_the_statutory_steps(dagbag) -> None:
    # Directly, not only through the deregistration group: when no deregistration is asked, that
    # group ends right after its choice, and the case must not close before the member is gone.
    close = dagbag.dags["offboard_employee"].get_task("close_case")
    direct = close.upstream_task_ids
    assert any(t.startswith("deletion.") for t in direct), direct
    assert any(t.startswith("statutory_steps.") for t in direct), direct


WECOM_WRITING_TASKS = {
    "offboard_employee": {
        "handover.hand_over_customers",
        "handover.hand_over_customer_groups",
        "handover.leave_tags_and_group_chats",
        "handover.disable_member",
        "deletion.delete_member",
        "deletion.transfer_resigned_customers",
        "account_deregistration.send_deregistration_guide",
    },
    "dissolve_company": {
        "offboard_all_members.offboard_member_batch",
        "offboard_all_members.offboard_leaders",
        "account_deregistration.send_deregistration_guide",
    },
}


def test_wecom_writes_and_backups_have_pools_of_their_own(dagbag) -> None:
    """A burst of new cases (backups) cannot take the worker slots running cases' WeCom writes need."""
    from offboarding.settings import max_active_cases

    person = dagbag.dags["offboard_employee"]
    assert person.max_active_runs == max_active_cases("person") >= 10_000
    for dag_id, writers in WECOM_WRITING_TASKS.items():
        pools = {t.task_id: t.pool for t in dagbag.dags[dag_id].tasks}
        assert {pools[t] for t in writers} == {"offboarding_wecom_writes"}, dag_id
        others = {p for t, p in pools.items() if t not in writers}
        assert "offboarding_wecom_writes" not in others, dag_id
    backups = {t.task_id: t.pool for t in person.tasks if t.task_id.startswith("backup.")}
    assert backups["backup.export_customers_and_groups"] == "offboarding_wecom_backups"
    assert backups["backup.verify_backup_manifest"] == "default_pool"


def test_case_limits_come_from_the_environment(monkeypatch) -> None:
    import pytest

    from offboarding.settings import max_active_cases

    monkeypatch.setenv("OFFBOARDING_MAX_ACTIVE_PERSON_CASES", "12000")
    assert max_active_cases("person") == 12000
    monkeypatch.setenv("OFFBOARDING_MAX_ACTIVE_COMPANY_CASES", "lots")
    with pytest.raises(ValueError, match="OFFBOARDING_MAX_ACTIVE_COMPANY_CASES"):
        max_active_cases("company")
