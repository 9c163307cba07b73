"""``offboard_layoff`` reads like the checklist, and its edges keep the deletions safe."""

from __future__ import annotations

import ast
import copy
import datetime as dt
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jinja2
import pytest

from offboarding.steps.batches import make_list_plan

REPO = Path(__file__).resolve().parents[2]
DAG_FILE = REPO / "dags" / "offboard_layoff.py"
BATCHES = "offboard_all_members.offboard_member_batch"
APPROVAL = "approve_member_deletion"
WAIT = "preflight.wait_for_last_working_day"

EXPECTED_TASKS = {
    "preflight.check_case",
    "preflight.check_members",
    WAIT,
    "offboard_all_members.plan_member_batches",
    APPROVAL,
    BATCHES,
    "offboard_all_members.summarise_member_offboarding",
    "close_case",
}
LAYOFF_FORM: dict[str, Any] = {
    "list_id": "2026q4-east",
    "list_name": "2026年Q4 华东区优化",
    "last_working_day": "2026-12-31",
    "persons": [
        {"userid": "zhangsan", "successor_userid": "lisi", "display_name": "张三"},
        {"userid": "wangwu", "successor_userid": "zhaoliu"},
        {"userid": "sunqi", "successor_userid": "lisi"},
    ],
    "hr_owner": "hr",
    "approvers": ["approver"],
}


@pytest.fixture(scope="module")
def dag() -> Any:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAG_FILE))
    assert bag.import_errors == {}
    return bag.dags["offboard_layoff"]


def upstream(dag: Any, task_id: str) -> set[str]:
    return set(dag.get_task(task_id).get_flat_relative_ids(upstream=True))


def test_tasks_and_groups_read_like_the_checklist(dag: Any) -> None:
    assert set(dag.task_ids) == EXPECTED_TASKS
    assert {"preflight", "offboard_all_members"} <= set(dag.task_group_dict)
    assert dag.schedule is None
    assert "layoff" in dag.tags


def test_every_task_tells_ops_what_it_does(dag: Any) -> None:
    assert [t.task_id for t in dag.tasks if not (t.doc_md or "").strip()] == []
    assert (dag.doc_md or "").strip()


def test_the_batches_are_one_mapped_task_a_few_at_a_time_in_the_writes_pool(dag: Any) -> None:
    from airflow.sdk.definitions.mappedoperator import MappedOperator

    from offboarding.settings import wecom_writes_pool

    batches = dag.get_task(BATCHES)
    assert isinstance(batches, MappedOperator)
    assert batches.max_active_tis_per_dagrun == 4
    assert batches.pool == wecom_writes_pool() != "default_pool"
    assert batches.retries >= 1  # a batch resumes where it stopped: a retry redoes only what is left
    # A list of 400 persons, 150 for s0 then 250 for s1: three mapped task instances, each labelled with
    # its successor.
    plan = make_list_plan({f"p{n:03d}": "s0" if n % 2 and n < 300 else "s1" for n in range(1, 401)})
    second = SimpleNamespace(batch=plan.regular[1].to_xcom())
    label = jinja2.Template(batches.map_index_template).render(task=second)
    assert label == "batch 2/3 (members 151–350) → s1"


def test_nothing_is_deleted_before_the_approval_and_the_last_working_day(dag: Any) -> None:
    before = upstream(dag, BATCHES)
    assert {
        "preflight.check_case",
        "preflight.check_members",
        "offboard_all_members.plan_member_batches",
        APPROVAL,
        WAIT,
    } == before
    # Both directly: a rejection (the approval skips its downstream) or a wait that does not end stops
    # the batches themselves, not only something before them.
    assert {APPROVAL, WAIT, "offboard_all_members.plan_member_batches"} == dag.get_task(
        BATCHES
    ).upstream_task_ids
    # The approval is asked as soon as the plan is made, without waiting for the last working day.
    assert "offboard_all_members.plan_member_batches" in dag.get_task(APPROVAL).upstream_task_ids
    assert WAIT not in upstream(dag, APPROVAL)
    # Every task before the batches runs only when all of its upstream succeeded.
    for task_id in before | {BATCHES}:
        assert dag.get_task(task_id).trigger_rule == "all_success", task_id


def test_the_summary_and_the_closure_come_after_every_batch(dag: Any) -> None:
    assert BATCHES in dag.get_task("offboard_all_members.summarise_member_offboarding").upstream_task_ids
    assert upstream(dag, "close_case") == EXPECTED_TASKS - {"close_case"}
    assert dag.get_task("close_case").downstream_task_ids == set()


def test_the_wait_is_for_the_lists_last_working_day_with_no_sensor_timeout(dag: Any) -> None:
    wait = dag.get_task(WAIT)
    assert wait.execution_timeout is None
    assert wait.timeout > dt.timedelta(days=365).total_seconds()
    assert dag.max_active_runs > 16


def test_the_params_are_the_layoff_form(dag: Any) -> None:
    from airflow.sdk.exceptions import ParamValidationError
    from airflow.serialization.definitions.param import SerializedParam, SerializedParamsDict

    from offboarding.cases import LAYOFF_CASE_FIELDS

    assert set(dag.params) == set(LAYOFF_CASE_FIELDS)

    def server_side(conf: dict[str, Any]) -> Any:
        """Airflow's own check at run creation: the serialized params, the conf merged in, validated."""
        out = {}
        for name in dag.params:
            param = dag.params.get_param(name)
            kwargs = dict(param.schema)
            if param.has_value:
                kwargs["default"] = param.value
            out[name] = SerializedParam(description=param.description, **kwargs)
        return SerializedParamsDict(out).deep_merge(copy.deepcopy(conf)).validate()

    valid = server_side(LAYOFF_FORM)
    assert valid["persons"] == LAYOFF_FORM["persons"]
    assert (valid["dry_run"], valid["time_scale"], valid["wecom_conn_id"]) == (False, 1, "wecom_default")
    for field, bad in {
        "list_id": {**LAYOFF_FORM, "list_id": "Q4 East"},
        "persons": {**LAYOFF_FORM, "persons": [{"userid": "zhangsan"}]},
        "last_working_day": {**LAYOFF_FORM, "last_working_day": "31.12.2026"},
    }.items():
        with pytest.raises(ParamValidationError, match=f"param {field}"):
            server_side(bad)


def test_the_approval_asks_the_forms_approvers_with_the_plan_in_numbers(dag: Any) -> None:
    from offboarding.operators.company_members import PLAN_SUMMARY_KEY, PLAN_TASK_ID

    approval = dag.get_task(APPROVAL)
    plan = make_list_plan({p["userid"]: p["successor_userid"] for p in LAYOFF_FORM["persons"]})
    xcoms = {(PLAN_TASK_ID, PLAN_SUMMARY_KEY): plan.summary()}
    ti = SimpleNamespace(xcom_pull=lambda task_ids=None, key="return_value": xcoms.get((task_ids, key)))
    env = dag.get_template_env()

    def render(template: str, **context: Any) -> str:
        return env.from_string(template).render(params=LAYOFF_FORM, ti=ti, **context)

    body = render(approval.body)
    assert "### Delete the persons of 2026年Q4 华东区优化 (2026q4-east) from WeCom?" in body
    assert "**Plan**: 3 persons in 2 batches of up to\n200" in body
    assert "**3 will be\ndeleted** after their last working day, 2026-12-31" in body
    assert "**Successors**: lisi, zhaoliu" in body
    assert render(approval.subject) == "Approve deleting the 3 persons of 2026年Q4 华东区优化"
    assert render(approval.approvers) == "approver"
    # Before the plan is made (no XCom), the body still renders and says so.
    ti_without_plan = SimpleNamespace(xcom_pull=lambda task_ids=None, key="return_value": None)
    empty = env.from_string(approval.body).render(params=LAYOFF_FORM, ti=ti_without_plan)
    assert "**Plan**: ? persons in ? batches" in empty


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
        "offboarding.settings",
        "offboarding.workflows",
    }
