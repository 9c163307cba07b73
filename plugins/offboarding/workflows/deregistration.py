"""The account-deregistration task group (注销账号), shared by the person and the company DAGs.

    choose_deregistration ─┬─ send_deregistration_guide ─ record_submission ─ plan_deadlines
                           │      ─ confirm_review_outcome ─┬─ wait_for_cooling_off_end
                           │                                │     ─ confirm_deregistration_outcome ─┬─ verify_account_gone
                           │                                │                                       └─ handle_revocation
                           │                                └─ handle_rejection
                           └─ deregistration_not_requested
    all of them ─ deregistration_done

The guide goes out while the person can still receive app messages (wire ``guide`` before the
deletion); ``record_submission`` waits for whatever must be finished first (deletion, statutory steps).
"""

from __future__ import annotations

from typing import NamedTuple

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import TaskGroup, TriggerRule

from offboarding.operators.base import with_retry_defaults
from offboarding.operators.branches import ChooseDeregistrationOperator
from offboarding.operators.deregistration import (
    PlanDeregistrationDeadlinesOperator,
    RecordDeregistrationOutcomeOperator,
    SendDeregistrationGuideOperator,
    VerifyAccountGoneOperator,
)
from offboarding.operators.human_step import EvidenceField, HumanDecisionOperator, HumanStepOperator
from offboarding.sensors.legal_deadline import LegalDeadlineSensor
from offboarding.settings import wecom_writes_pool
from offboarding.workflows import docs

GROUP = "account_deregistration"
PLAN = f"{GROUP}.plan_deadlines"
REVIEW_PASSED, REVIEW_REJECTED = "Review passed", "Review rejected"
DEREGISTERED, REVOKED = "Account deregistered", "Revoked: the person logged in"


class DeregistrationGroup(NamedTuple):
    """The group plus the two tasks other phases wire to."""

    group: TaskGroup
    guide: object  # the branch that decides and sends the guide: wire it before the deletion
    submission: object  # record_submission: wire what must be finished before it upstream
    guide_sent: object  # joins "guide sent" and "not requested": wire the deletion after it


def account_deregistration(*, userid: str, name: str, owner: str, requested: str) -> DeregistrationGroup:
    """Build the group for the account of ``userid`` (templated), answered by ``owner``.

    ``name`` is how the steps call the person (templated); ``requested`` is a template that renders
    "True" when the form asked for deregistration.
    """
    with TaskGroup(GROUP, tooltip="注销账号: guide, submission, review, cooling-off, outcome") as group:
        choose = ChooseDeregistrationOperator(
            task_id="choose_deregistration",
            requested=requested,
            if_requested="send_deregistration_guide",
            otherwise="deregistration_not_requested",
            doc_md=docs.CHOOSE_DEREGISTRATION,
            **with_retry_defaults({}),
        )
        not_requested = EmptyOperator(task_id="deregistration_not_requested", doc_md=docs.NOT_REQUESTED)
        guide = SendDeregistrationGuideOperator(
            task_id="send_deregistration_guide",
            userid=userid,
            doc_md=docs.SEND_GUIDE,
            pool=wecom_writes_pool(),
        )
        submission = HumanStepOperator(
            task_id="record_submission",
            subject="注销账号: when did {{ params.display_name or '"
            + userid
            + "' }} submit the deregistration request?",
            body=docs.RECORD_SUBMISSION_BODY,
            assignees=owner,
            evidence={
                "submitted_at": EvidenceField(
                    "Submitted at (申请注销时间)",
                    "Date and time shown in the app, with time zone",
                    format="date-time",
                )
            },
            doc_md=docs.HUMAN_STEP,
        )
        plan = PlanDeregistrationDeadlinesOperator(
            task_id="plan_deadlines",
            submitted_at=f"{{{{ ti.xcom_pull(task_ids='{GROUP}.record_submission')['params_input']['submitted_at'] }}}}",
            doc_md=docs.PLAN_DEADLINES,
        )
        review = HumanDecisionOperator(
            task_id="confirm_review_outcome",
            subject="注销账号审核: outcome of the review (expected by "
            f"{{{{ ti.xcom_pull(task_ids='{PLAN}')['review_due_local'] }}}})",
            body=docs.REVIEW_BODY,
            assignees=owner,
            options_mapping={
                REVIEW_PASSED: f"{GROUP}.wait_for_cooling_off_end",
                REVIEW_REJECTED: f"{GROUP}.handle_rejection",
            },
            evidence={"reason": EvidenceField("Rejection reason (驳回原因)", required_for=[REVIEW_REJECTED])},
            doc_md=docs.REVIEW,
        )
        cooling = LegalDeadlineSensor(
            task_id="wait_for_cooling_off_end",
            deadline=f"{{{{ ti.xcom_pull(task_ids='{PLAN}')['cooling_off_end'] }}}}",
            anchor=f"{{{{ ti.xcom_pull(task_ids='{PLAN}')['submitted_at'] }}}}",
            time_scale="{{ params.time_scale }}",
            label="end of the 15-day cooling-off",
            deadline_name="cooling_off",
            doc_md=docs.WAIT_COOLING_OFF,
        )
        outcome = HumanDecisionOperator(
            task_id="confirm_deregistration_outcome",
            subject="注销账号: was the account deregistered, or did a login revoke the request?",
            body=docs.OUTCOME_BODY,
            assignees=owner,
            options_mapping={
                DEREGISTERED: f"{GROUP}.verify_account_gone",
                REVOKED: f"{GROUP}.handle_revocation",
            },
            after_deadline="cooling_off",
            evidence={
                "revoked_at": EvidenceField(
                    "Logged in at (登录时间)", format="date-time", required_for=[REVOKED]
                )
            },
            doc_md=docs.OUTCOME,
        )
        rejection = RecordDeregistrationOutcomeOperator(
            task_id="handle_rejection",
            outcome="rejected",
            decision_task_id=f"{GROUP}.confirm_review_outcome",
            doc_md=docs.HANDLE_REJECTION,
        )
        revocation = RecordDeregistrationOutcomeOperator(
            task_id="handle_revocation",
            outcome="revoked",
            decision_task_id=f"{GROUP}.confirm_deregistration_outcome",
            doc_md=docs.HANDLE_REVOCATION,
        )
        verify = VerifyAccountGoneOperator(
            task_id="verify_account_gone", userid=userid, doc_md=docs.VERIFY_GONE
        )
        done = EmptyOperator(
            task_id="deregistration_done",
            trigger_rule=TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS,
            doc_md=docs.DEREGISTRATION_DONE,
        )

        guide_sent = EmptyOperator(
            task_id="guide_sent_or_not_needed",
            trigger_rule=TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS,
            doc_md=docs.GUIDE_SENT,
        )
        choose >> [guide, not_requested]
        [guide, not_requested] >> guide_sent
        guide >> submission >> plan >> review >> [cooling, rejection]
        cooling >> outcome >> [verify, revocation]
        [not_requested, rejection, revocation, verify] >> done
    return DeregistrationGroup(group=group, guide=choose, submission=submission, guide_sent=guide_sent)
