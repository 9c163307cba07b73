"""The approval gate before anything irreversible."""

from __future__ import annotations

from typing import Any

from airflow.providers.standard.operators.hitl import ApprovalOperator
from airflow.sdk import Context

from offboarding.operators.base import Case, with_retry_defaults
from offboarding.operators.human_step import _users, announce_human_step

APPROVAL_BODY = """
### Delete {{ params.display_name }} ({{ params.userid }}) from WeCom?

**Backup**: {{ (ti.xcom_pull(task_ids='backup.verify_backup_manifest') or {}).get('summary', 'not verified') }}

**Successor**: {{ params.successor_userid }} — customers, customer groups and files are handed over.

Deleting the member is irreversible: a bound Tencent Exmail mailbox is deleted with it.
Approve only when the backup above says *all verified*.
"""


class ApproveDeletionOperator(ApprovalOperator):
    """``ApprovalOperator`` assigned to the case's approvers; the answer is written to the ledger."""

    template_fields = (*ApprovalOperator.template_fields, "approvers")
    ui_color = "#fde2e2"

    def __init__(self, *, approvers: str = "{{ params.approvers | join(',') }}", **kwargs: Any) -> None:
        kwargs.setdefault("subject", "Approve deleting {{ params.display_name }} ({{ params.userid }})")
        kwargs.setdefault("body", APPROVAL_BODY)
        super().__init__(**with_retry_defaults(kwargs))  # an answer lost in a race asks again
        self.approvers = approvers

    def execute(self, context: Context) -> Any:
        self.assigned_users = _users(self.approvers)
        if not self.assigned_users:
            raise ValueError("approvers: the trigger form names no approver")
        announce_human_step(context, self.task_id, self.task_id, self.subject, self.assigned_users)
        return super().execute(context)

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        if "error" not in event:
            chosen = (event.get("chosen_options") or ["?"])[0]
            who = (event.get("responded_by_user") or {}).get("name") or "timeout-default"
            at = event.get("responded_at")
            case = Case.from_context(context)
            case.ledger.append(
                "approval.approved" if chosen == self.APPROVE else "approval.rejected",
                actor=str(who),
                step=self.task_id,
                request={"subject": self.subject},
                result={"chosen": chosen, "responded_at": at.isoformat() if hasattr(at, "isoformat") else at},
                key=case.case_id,
            )
        return super().execute_complete(context, event)
