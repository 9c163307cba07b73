"""The case's branch points: which of a group's steps run.

Plain branch operators rather than ``@task.branch`` functions: the DAG processor builds every task at
each parse, and a decorated task costs it the decorator's machinery and five ``__init__`` levels where
a ``BaseBranchOperator`` costs one or two (``make bench --only parse_cost``). What runs is the same:
the chosen tasks run, the others of the group are skipped.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.standard.operators.branch import BaseBranchOperator
from airflow.sdk import Context

#: The statutory steps every person needs (社保减员, 公积金封存, 退工登记).
STATUTORY_STEPS_FOR_EVERYONE = ("stop_social_insurance", "seal_housing_fund", "issue_termination_record")
TAX_ROLE_HOLDERS = ("legal_representative", "finance_owner")


def statutory_steps_for(role: str) -> list[str]:
    """The statutory steps a person in ``role`` needs: the tax role is handed over by its holders, and
    the legal representative's change is registered."""
    steps = list(STATUTORY_STEPS_FOR_EVERYONE)
    if role in TAX_ROLE_HOLDERS:
        steps.append("hand_over_tax_role")
    if role == "legal_representative":
        steps.append("register_legal_representative_change")
    return steps


class _InItsGroup(BaseBranchOperator):
    def in_my_group(self, task_id: str) -> str:
        """``task_id`` of a sibling, with the group prefix this task has."""
        group, _, _ = self.task_id.rpartition(".")
        return f"{group}.{task_id}" if group else task_id


class ChooseStatutoryStepsOperator(_InItsGroup):
    """Run the statutory steps the person's role (the form's ``role``) needs; skip the others."""

    def choose_branch(self, context: Context) -> list[str]:
        role = context["params"]["role"]
        return [self.in_my_group(step) for step in statutory_steps_for(role)]


class ChooseDeregistrationOperator(_InItsGroup):
    """Run ``if_requested`` when ``requested`` renders true (``"True"``, ``"1"``, ``"yes"``), else
    ``otherwise``: the account deregistration is asked for on the form."""

    template_fields = ("requested",)

    def __init__(self, *, requested: str, if_requested: str, otherwise: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.requested = requested
        self.if_requested = if_requested
        self.otherwise = otherwise

    def choose_branch(self, context: Context) -> str:
        wanted = str(self.requested).strip().lower() in ("true", "1", "yes")
        return self.in_my_group(self.if_requested if wanted else self.otherwise)
