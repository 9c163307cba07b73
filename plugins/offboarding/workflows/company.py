"""The phases of a dissolving company's case (``dissolve_company``), one factory each.

    preflight ─┬─ legal_representative_steps (tax ∥ social insurance) ─┬─ offboard_all_members.plan_member_batches
               └─ dissolution_notice (publication → plan → wait → objections) ┘      ─ approve_member_deletion
        ─ offboard_all_members.offboard_member_batch (mapped, 200 members each) ─ offboard_leaders
        ─ summarise_member_offboarding
        ─ close_wecom_enterprise ─ account_deregistration (the admin's) ─ close_case

The legal steps and the notice run side by side (the tax bureau and the notice period do not wait for
each other); members are only removed after both, an approval, and the notice period without an
unresolved objection. The enterprise is closed last, by hand, once only the kept members are left.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import TaskGroup, TriggerRule

from offboarding.operators.approval import ApproveDeletionOperator
from offboarding.operators.base import with_retry_defaults
from offboarding.operators.close import CloseCaseOperator
from offboarding.operators.company import (
    LegalDecisionOperator,
    LegalStepOperator,
    PlanNoticePeriodOperator,
    RecordCreditorObjectionOperator,
    StopCaseOperator,
)
from offboarding.operators.company_case import CheckCompanyCaseOperator
from offboarding.operators.company_member_summary import SummariseMemberOffboardingOperator
from offboarding.operators.company_members import (
    LEADERS,
    PLAN_SUMMARY_KEY,
    PLAN_TASK_ID,
    OffboardMemberBatchOperator,
    PlanMemberBatchesOperator,
)
from offboarding.operators.hold import HeldLegalStepOperator
from offboarding.operators.human_step import EvidenceField
from offboarding.sensors.legal_deadline import LegalDeadlineSensor
from offboarding.settings import wecom_writes_pool
from offboarding.workflows import docs

LEGAL_REPRESENTATIVE = "{{ params.legal_representative }}"
TAX_OWNERS = "{{ params.legal_representative }},{{ params.finance_owner }}"
ELIGIBLE, NOT_ELIGIBLE = "Eligible", "Not eligible"
TAX_CLEARED, TAX_NOT_REQUIRED = "清税证明 issued", "Not required"
NO_OBJECTIONS, OBJECTION_RECEIVED = "No objections", "Objection received"
PARALLEL_BATCHES = 4
"""Batches of one case offboarded at once: each takes a quarter of WeCom's per-API rate limit."""
NOTICE_PLAN = "dissolution_notice.plan_notice_period"

SET_PLAN = f"{{% set plan = ti.xcom_pull(task_ids='{PLAN_TASK_ID}', key='{PLAN_SUMMARY_KEY}') or {{}} %}}"
"""Jinja: ``plan``, the member plan in numbers (``plan_member_batches``' XCom), for an approval's body."""

MEMBER_APPROVAL_BODY = (
    """
### Remove every member of {{ params.company_name }} ({{ params.credit_code }}) from WeCom?
"""
    + SET_PLAN
    + """
{% set notice = ti.xcom_pull(task_ids='"""
    + NOTICE_PLAN
    + """') or {} %}

**Plan**: {{ plan.get('members', '?') }} members in {{ plan.get('batches', '?') }} batches of up to
{{ plan.get('batch_size', 200) }}; **{{ plan.get('to_delete', '?') }} will be deleted**.

**Kept until the enterprise is dissolved**:
{% for userid, why in (plan.get('kept') or {}).items() %}`{{ userid }}` ({{ why }}){% if not loop.last %}; {% endif %}{% endfor %}

**Admins deleted last**: {{ (plan.get('admins_deleted_last') or ['none']) | join(', ') }}

**Notice**: {{ notice.get('procedure_name', '?') }}, published {{ notice.get('published_on', '?') }}, ended
{{ notice.get('notice_end_local', '?') }}.

Every member is backed up and verified, their customers and customer groups go to
`{{ params.successor_userid }}`, then they are deleted (irreversible: a bound Tencent Exmail mailbox goes
too). Approve only when the legal steps above are done.
"""
)


class PreflightGroup(NamedTuple):
    group: TaskGroup
    eligible: Any  # the task the rest of the case starts from


class MemberOffboarding(NamedTuple):
    group: TaskGroup
    plan: Any  # runs before the approval (the approval shows the plan)
    batches: Any  # the mapped task and the leaders' task: wire the approval upstream of both
    summary: Any


def preflight() -> PreflightGroup:
    with TaskGroup("preflight", tooltip="Check the case; confirm the procedure") as group:
        check = CheckCompanyCaseOperator(task_id="check_case", doc_md=docs.CHECK_COMPANY_CASE)
        confirm = LegalDecisionOperator(
            task_id="confirm_procedure_eligibility",
            subject="注销方式: is {{ params.company_name }} eligible for {{ params.procedure }} deregistration?",
            body=docs.PROCEDURE_ELIGIBILITY_BODY,
            assignees=LEGAL_REPRESENTATIVE,
            options_mapping={
                ELIGIBLE: "preflight.procedure_eligible",
                NOT_ELIGIBLE: "preflight.stop_not_eligible",
            },
            evidence={
                "basis": EvidenceField(
                    "Basis (依据)",
                    "What makes the company eligible, e.g. no debts and every investor's commitment signed",
                    format="multiline",
                    required_for=[ELIGIBLE],
                ),
                "reference": EvidenceField("Reference (承诺书 / 清算组备案 number)", required_for=[ELIGIBLE]),
                "reason": EvidenceField("Why not eligible (原因)", required_for=[NOT_ELIGIBLE]),
            },
            doc_md=docs.PROCEDURE_ELIGIBILITY,
        )
        eligible = EmptyOperator(task_id="procedure_eligible", doc_md=docs.PROCEDURE_ELIGIBLE)
        stop = StopCaseOperator(
            task_id="stop_not_eligible",
            reason="the company is not eligible for {{ params.procedure }} deregistration",
            what_to_do="{% if params.procedure == 'simplified' %}trigger the case again with procedure=general"
            "{% else %}resolve what blocks the general deregistration (see the ledger's reason), then trigger "
            "the case again{% endif %}",
            doc_md=docs.STOP_NOT_ELIGIBLE,
        )
        check >> confirm >> [eligible, stop]
    return PreflightGroup(group=group, eligible=eligible)


def legal_representative_steps() -> TaskGroup:
    with TaskGroup(
        "legal_representative_steps", tooltip="Tax clearance and social insurance, in parallel"
    ) as group:
        LegalStepOperator(
            task_id="confirm_tax_deregistration",
            subject="清税: tax deregistration of {{ params.company_name }}",
            body=docs.TAX_DEREGISTRATION_BODY,
            assignees=TAX_OWNERS,
            options=[TAX_CLEARED, TAX_NOT_REQUIRED],
            evidence={
                "certificate_number": EvidenceField("清税证明 number (文书号)", required_for=[TAX_CLEARED]),
                "issued_on": EvidenceField("Issued on (开具日期)", format="date", required_for=[TAX_CLEARED]),
                "reason": EvidenceField("Why not required (原因)", required_for=[TAX_NOT_REQUIRED]),
            },
            doc_md=docs.TAX_DEREGISTRATION,
        )
        LegalStepOperator(
            task_id="confirm_social_insurance_closed",
            subject="社保注销: social insurance of {{ params.company_name }} closed?",
            body=docs.SOCIAL_INSURANCE_BODY,
            assignees=LEGAL_REPRESENTATIVE,
            evidence={
                "every_employee_stopped": EvidenceField(
                    "Every employee's social insurance stopped (全员减员)", type="boolean"
                ),
                "arrears_settled": EvidenceField("Arrears settled (无欠费)", type="boolean"),
                "account_closed": EvidenceField(
                    "Social-insurance account closed (社保账户注销)", type="boolean"
                ),
                "closed_on": EvidenceField("Account closed on", format="date"),
                "reference": EvidenceField("Reference (业务流水号)"),
            },
            must_confirm=["every_employee_stopped", "arrears_settled", "account_closed"],
            doc_md=docs.SOCIAL_INSURANCE_CLOSED,
        )
    return group


def dissolution_notice() -> TaskGroup:
    with TaskGroup(
        "dissolution_notice", tooltip="Publish, wait for the notice period, record objections"
    ) as group:
        publication = LegalStepOperator(
            task_id="record_notice_publication",
            subject="注销公示: when was the notice of {{ params.company_name }} published on 国家企业信用信息公示系统?",
            body=docs.RECORD_NOTICE_BODY,
            assignees=LEGAL_REPRESENTATIVE,
            evidence={
                "published_on": EvidenceField("Published on (公示日期)", format="date"),
                "reference": EvidenceField("Reference or URL (公告链接 / 编号)"),
            },
            doc_md=docs.RECORD_NOTICE,
        )
        plan = PlanNoticePeriodOperator(task_id="plan_notice_period", doc_md=docs.PLAN_NOTICE)
        wait = LegalDeadlineSensor(
            task_id="wait_for_notice_period_end",
            deadline=f"{{{{ ti.xcom_pull(task_ids='{NOTICE_PLAN}')['notice_end'] }}}}",
            anchor=f"{{{{ ti.xcom_pull(task_ids='{NOTICE_PLAN}')['recorded_at'] }}}}",
            time_scale="{{ params.time_scale }}",
            label="end of the notice period",
            deadline_name="notice_period",
            doc_md=docs.WAIT_NOTICE_END,
        )
        objections = LegalDecisionOperator(
            task_id="record_creditor_objections",
            subject="债权人异议: did a creditor object to the deregistration of {{ params.company_name }}?",
            body=docs.CREDITOR_OBJECTIONS_BODY,
            assignees=LEGAL_REPRESENTATIVE,
            options_mapping={
                NO_OBJECTIONS: "dissolution_notice.objections_settled",
                OBJECTION_RECEIVED: "dissolution_notice.handle_creditor_objection",
            },
            evidence={
                "creditor": EvidenceField("Creditor (债权人)", required_for=[OBJECTION_RECEIVED]),
                "claim": EvidenceField(
                    "Claim (异议内容 / 金额)", format="multiline", required_for=[OBJECTION_RECEIVED]
                ),
                "received_on": EvidenceField("Received on", format="date", required_for=[OBJECTION_RECEIVED]),
            },
            doc_md=docs.CREDITOR_OBJECTIONS,
        )
        handle = RecordCreditorObjectionOperator(
            task_id="handle_creditor_objection", doc_md=docs.HANDLE_OBJECTION
        )
        resolve = LegalStepOperator(
            task_id="resolve_creditor_objection",
            subject="债权人异议: how was the objection to the deregistration of {{ params.company_name }} resolved?",
            body=docs.RESOLVE_OBJECTION_BODY,
            assignees=LEGAL_REPRESENTATIVE,
            evidence={
                "resolution": EvidenceField("How it was resolved (处理结果)", format="multiline"),
                "resolved_on": EvidenceField("Resolved on", format="date"),
            },
            doc_md=docs.RESOLVE_OBJECTION,
        )
        settled = EmptyOperator(
            task_id="objections_settled",
            trigger_rule=TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS,
            doc_md=docs.OBJECTIONS_SETTLED,
        )
        publication >> plan >> wait >> objections >> [settled, handle]
        handle >> resolve >> settled
    return group


def approve_member_deletion() -> ApproveDeletionOperator:
    return ApproveDeletionOperator(
        task_id="approve_member_deletion",
        subject="Approve removing every member of {{ params.company_name }} from WeCom",
        body=MEMBER_APPROVAL_BODY,
        doc_md=docs.APPROVE_MEMBER_DELETION,
    )


def offboard_all_members() -> MemberOffboarding:
    with TaskGroup(
        "offboard_all_members", tooltip="Every member, 200 at a time: back up, hand over, delete"
    ) as group:
        plan = PlanMemberBatchesOperator(task_id="plan_member_batches", doc_md=docs.PLAN_MEMBER_BATCHES)
        batches = member_batches(plan, docs.OFFBOARD_MEMBER_BATCH)
        leaders = OffboardMemberBatchOperator(
            task_id="offboard_leaders",
            batch=LEADERS,
            trigger_rule=TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS,
            doc_md=docs.OFFBOARD_LEADERS,
            pool=wecom_writes_pool(),
        )
        summary = SummariseMemberOffboardingOperator(
            task_id="summarise_member_offboarding", doc_md=docs.SUMMARISE_MEMBERS
        )
        batches >> leaders >> summary
    return MemberOffboarding(group=group, plan=plan, batches=[batches, leaders], summary=summary)


def member_batches(plan: Any, doc_md: str) -> Any:
    """``offboard_member_batch``: one task instance per batch the planning task returns, a few at once."""
    return OffboardMemberBatchOperator.partial(
        task_id="offboard_member_batch",
        max_active_tis_per_dagrun=PARALLEL_BATCHES,
        map_index_template="{{ task.batch.label }}",
        doc_md=doc_md,
        pool=wecom_writes_pool(),
        **with_retry_defaults({}),  # partial() does not run __init__'s defaults
    ).expand(batch=plan.output)


def close_wecom_enterprise() -> LegalStepOperator:
    return HeldLegalStepOperator(  # waits while the case is on hold
        task_id="close_wecom_enterprise",
        subject="解散企业: dissolve the WeCom enterprise of {{ params.company_name }} in the admin console",
        body=docs.CLOSE_ENTERPRISE_BODY,
        assignees=LEGAL_REPRESENTATIVE,
        evidence={
            "dissolved_on": EvidenceField("Dissolved on (解散日期)", format="date"),
            "confirmation": EvidenceField(
                "Confirmation (WeCom's confirmation text or screenshot reference)", format="multiline"
            ),
        },
        trigger_rule=TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS,
        after_deadline="notice_period",
        doc_md=docs.CLOSE_ENTERPRISE,
    )


def close_case() -> CloseCaseOperator:
    return CloseCaseOperator(
        task_id="close_case", trigger_rule=TriggerRule.NONE_FAILED, doc_md=docs.CLOSE_COMPANY_CASE
    )
