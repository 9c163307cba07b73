"""The case's branch points: which statutory steps a role needs, whether the account is deregistered."""

from __future__ import annotations

import pendulum
import pytest
from airflow.sdk import DAG, TaskGroup

from offboarding.operators.branches import (
    ChooseDeregistrationOperator,
    ChooseStatutoryStepsOperator,
    statutory_steps_for,
)

EVERYONE = ["stop_social_insurance", "seal_housing_fund", "issue_termination_record"]


@pytest.mark.parametrize(
    ("role", "extra"),
    [
        ("employee", []),
        ("finance_owner", ["hand_over_tax_role"]),
        ("legal_representative", ["hand_over_tax_role", "register_legal_representative_change"]),
    ],
)
def test_each_role_gets_its_statutory_steps(role: str, extra: list[str]) -> None:
    assert statutory_steps_for(role) == EVERYONE + extra


def test_the_choices_name_tasks_of_the_choosers_own_group() -> None:
    with DAG("branches", schedule=None, start_date=pendulum.datetime(2025, 1, 1)):
        with TaskGroup("statutory_steps"):
            statutory = ChooseStatutoryStepsOperator(task_id="choose_statutory_steps")
        with TaskGroup("account_deregistration"):
            deregistration = ChooseDeregistrationOperator(
                task_id="choose_deregistration",
                requested="{{ params.deregister_account }}",
                if_requested="send_deregistration_guide",
                otherwise="deregistration_not_requested",
            )
        top = ChooseDeregistrationOperator(
            task_id="top_level", requested="no", if_requested="yes_step", otherwise="no_step"
        )
    chosen = statutory.choose_branch({"params": {"role": "finance_owner"}})  # type: ignore[arg-type]
    assert chosen == [f"statutory_steps.{s}" for s in [*EVERYONE, "hand_over_tax_role"]]
    assert deregistration.template_fields == ("requested",)
    for rendered, expected in (
        ("True", "send_deregistration_guide"),
        (" yes ", "send_deregistration_guide"),
        ("1", "send_deregistration_guide"),
        ("False", "deregistration_not_requested"),
        ("", "deregistration_not_requested"),
    ):
        deregistration.requested = rendered
        assert deregistration.choose_branch({}) == f"account_deregistration.{expected}"  # type: ignore[arg-type]
    assert top.choose_branch({}) == "no_step"  # type: ignore[arg-type]


def test_every_chosen_step_is_downstream_of_the_choice_in_the_dags() -> None:
    """The branch names tasks the DAG files build: a renamed step would fail the choice at run time."""
    from pathlib import Path

    from airflow.dag_processing.dagbag import DagBag

    dags = Path(__file__).resolve().parents[2] / "dags"
    bag = DagBag(dag_folder=str(dags / "offboard_employee.py"))
    dag = bag.dags["offboard_employee"]
    choice = dag.get_task("statutory_steps.choose_statutory_steps")
    for role in ("employee", "finance_owner", "legal_representative"):
        chosen = {f"statutory_steps.{step}" for step in statutory_steps_for(role)}
        assert chosen <= choice.downstream_task_ids, role
    for dag_id in ("offboard_employee", "dissolve_company"):
        dag = DagBag(dag_folder=str(dags / f"{dag_id}.py")).dags[dag_id]
        choose = dag.get_task("account_deregistration.choose_deregistration")
        assert {choose.in_my_group(choose.if_requested), choose.in_my_group(choose.otherwise)} == (
            choose.downstream_task_ids
        )
