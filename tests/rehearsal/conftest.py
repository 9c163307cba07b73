"""A real ``airflow standalone`` running a small DAG of the product's real human-step operators.

The DAG (``rehearsal_steps``) has the person trigger form and, without anything that calls WeCom, the
steps the responder must answer: a statutory form (``HumanStepOperator``), the deletion approval
(``ApproveDeletionOperator``, an ``ApprovalOperator``) and, in an ``account_deregistration`` group, the
submission form and the review decision (``HumanDecisionOperator``). ``retries=0`` so an answer that
fails a task (trap 11, a bad answer) shows as a failed run instead of a silent retry.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from offboarding_dev.testing.airflow import RunningAirflow, running_airflow

DAG_ID = "rehearsal_steps"

#: name → SimpleAuthManager role; ``auditor`` may look but not answer.
USERS = "admin:admin,hr:user,approver:user,resigned01:user,zhengshi:user,zhaoliu:user,auditor:viewer"
#: The deployment's approver list: every user who may act, and ``nobody``, an approver on the list whose
#: password the responder is never given (a step it must report, not answer).
APPROVERS = [*(u.split(":")[0] for u in USERS.split(",") if not u.endswith(":viewer")), "nobody"]
#: The deployment's HR-owner list: every user who may act, and ``auditor``, a viewer the deployment lists
#: as HR owner: Airflow itself refuses their answer (HTTP 403), which the responder must report.
HR_OWNERS = [*(u.split(":")[0] for u in USERS.split(",") if not u.endswith(":viewer")), "auditor"]
#: Passwords that differ from the user names, so the responder must use its mapping.
PASSWORDS = {name.split(":")[0]: f"{name.split(':')[0]}-Pw-51" for name in USERS.split(",")}

DAG_TEXT = '''"""Human steps the rehearsal responder answers (test DAG; nothing here calls WeCom)."""
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG, TaskGroup

from offboarding.cases import person_params
from offboarding.operators.approval import ApproveDeletionOperator
from offboarding.operators.human_step import EvidenceField, HumanDecisionOperator, HumanStepOperator
from offboarding_dev.rehearsal.answers import REVIEW_PASSED, REVIEW_REJECTED
from offboarding.operators import controls
from offboarding_dev.testing.controls import MemoryControls

# Not a case DAG: the case endpoint knows only offboard_employee/dissolve_company runs, so these steps read
# their case's controls (no hold, no correction) from memory. What is tested here is the responder.
controls.controls_reader = MemoryControls

with DAG("rehearsal_steps", schedule=None, params=person_params(), max_active_runs=8, tags=["test"]):
    HumanStepOperator(
        task_id="stop_social_insurance",
        subject="社保减员 for {{ params.display_name }}",
        assignees="{{ params.hr_owner }}",
        evidence={
            "stopped_on": EvidenceField("Stopped on", format="date"),
            "reference": EvidenceField("Reference"),
            "confirmed": EvidenceField("Confirmed", type="boolean"),
            "channel": EvidenceField("Channel", enum=["online", "counter"]),
        },
        retries=0,
    )
    ApproveDeletionOperator(task_id="approve_deletion", retries=0) >> EmptyOperator(task_id="member_deleted")
    with TaskGroup("account_deregistration"):
        submission = HumanStepOperator(
            task_id="record_submission",
            step_id="record_submission",
            subject="When did {{ params.userid }} submit?",
            assignees="{{ params.userid }}",
            evidence={"submitted_at": EvidenceField("Submitted at", format="date-time")},
            retries=0,
        )
        review = HumanDecisionOperator(
            task_id="confirm_review_outcome",
            step_id="confirm_review_outcome",
            subject="Review outcome",
            assignees="{{ params.userid }}",
            options_mapping={
                REVIEW_PASSED: "account_deregistration.review_passed",
                REVIEW_REJECTED: "account_deregistration.review_rejected",
            },
            evidence={"reason": EvidenceField("Rejection reason", required_for=[REVIEW_REJECTED])},
            retries=0,
        )
        submission >> review >> [EmptyOperator(task_id="review_passed"), EmptyOperator(task_id="review_rejected")]
'''


@pytest.fixture(scope="session")
def rehearsal_airflow() -> Iterator[RunningAirflow]:
    """One Airflow with the ``rehearsal_steps`` DAG for the rehearsal tests (stopped at the end)."""
    root = Path(tempfile.mkdtemp(prefix="offboarding-rehearsal-dags-"))
    (root / "rehearsal_steps.py").write_text(DAG_TEXT, encoding="utf-8")
    with running_airflow(
        root, users=USERS, passwords=PASSWORDS, dag_ids=[DAG_ID], approvers=APPROVERS, hr_owners=HR_OWNERS
    ) as airflow:
        yield airflow
