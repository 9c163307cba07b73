"""The phases of a layoff list's case (``offboard_layoff``), one factory each.

    preflight: check_case ─ check_members ─┬─ wait_for_last_working_day ─────────────┐
                                           └─ plan_member_batches ─ approve_member_deletion
        ─ offboard_member_batch (mapped, 200 persons of one successor each) ─ summarise_member_offboarding
        ─ close_case

The company wind-up's batches, for a list of persons instead of every member: one approval for the whole
list, asked as soon as the plan is made; nobody is deleted before it and before the last working day.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from airflow.sdk import TaskGroup, TriggerRule

from offboarding.operators.approval import ApproveDeletionOperator
from offboarding.operators.close import CloseCaseOperator
from offboarding.operators.company_member_summary import SummariseMemberOffboardingOperator
from offboarding.operators.company_members import (
    GROUP_ID,
)
from offboarding.operators.layoff import (
    CheckLayoffCaseOperator,
    CheckListedMembersOperator,
    PlanLayoffBatchesOperator,
)
from offboarding.workflows import docs
from offboarding.workflows.company import SET_PLAN, member_batches
from offboarding.workflows.person import wait_for_last_working_day

APPROVAL_BODY = (
    """
### Delete the persons of {{ params.list_name }} ({{ params.list_id }}) from WeCom?
"""
    + SET_PLAN
    + """

**Plan**: {{ plan.get('members', '?') }} persons in {{ plan.get('batches', '?') }} batches of up to
{{ plan.get('batch_size', 200) }}, each handed to one successor; **{{ plan.get('to_delete', '?') }} will be
deleted** after their last working day, {{ params.last_working_day }}.

**Successors**: {{ params.persons | map(attribute='successor_userid') | unique | join(', ') }}

Every person is backed up and verified before their deletion, their customers and customer groups go to
their successor, then they are deleted (irreversible: a bound Tencent Exmail mailbox goes too). The list
is in the trigger form (`persons`) and the plan in `members/plan.json`.
"""
)


class PreflightGroup(NamedTuple):
    group: TaskGroup
    members: Any  # the plan starts from here
    wait: Any  # the batches wait for it


class PersonBatches(NamedTuple):
    plan: Any
    batches: Any
    summary: Any


def preflight() -> PreflightGroup:
    with TaskGroup("preflight", tooltip="Check the list, its persons and successors; wait") as group:
        check = CheckLayoffCaseOperator(task_id="check_case", doc_md=docs.CHECK_LAYOFF_CASE)
        members = CheckListedMembersOperator(task_id="check_members", doc_md=docs.CHECK_LISTED_MEMBERS)
        wait = wait_for_last_working_day()
        check >> members >> wait
    return PreflightGroup(group=group, members=members, wait=wait)


def approve_list_deletion() -> ApproveDeletionOperator:
    return ApproveDeletionOperator(
        task_id="approve_member_deletion",
        subject="Approve deleting the {{ params.persons | length }} persons of {{ params.list_name }}",
        body=APPROVAL_BODY,
        doc_md=docs.APPROVE_LIST_DELETION,
    )


def offboard_listed_persons() -> tuple[TaskGroup, PersonBatches]:
    with TaskGroup(GROUP_ID, tooltip="The persons, 200 at a time: back up, hand over, delete") as group:
        plan = PlanLayoffBatchesOperator(task_id="plan_member_batches", doc_md=docs.PLAN_LAYOFF_BATCHES)
        batches = member_batches(plan, docs.OFFBOARD_LAYOFF_BATCH)
        summary = SummariseMemberOffboardingOperator(
            task_id="summarise_member_offboarding", doc_md=docs.SUMMARISE_LAYOFF
        )
        batches >> summary
    return group, PersonBatches(plan=plan, batches=batches, summary=summary)


def close_case() -> CloseCaseOperator:
    return CloseCaseOperator(
        task_id="close_case", trigger_rule=TriggerRule.NONE_FAILED, doc_md=docs.CLOSE_LAYOFF_CASE
    )
