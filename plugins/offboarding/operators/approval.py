"""The approval gate before anything irreversible.

The task is assigned to the case's approvers that may approve it (see
:mod:`offboarding.cases.approvers`: never the trigger user, the person or the successor, and for a
company never the legal representative), after checking them against the deployment's approver list.
When the answer arrives it is written to the ledger with what the deletion checks it against
(:func:`offboarding.operators.approvers.check_airflow_approval`): this run's id, this task instance's
id (Airflow's human-in-the-loop record is keyed by it) and, for a person, the sha256 of the backup
manifest verified at that moment. An answer from someone who may not approve (e.g. an administrator
when ``simple_auth_manager_all_admins`` lets everyone answer) is recorded as ``approval.not_counted``
and fails the task.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.standard.operators.hitl import ApprovalOperator
from airflow.sdk import Context
from airflow.sdk.exceptions import AirflowFailException

from offboarding.operators.base import Case, with_retry_defaults
from offboarding.operators.human_step import DueTimeMixin, _users, announce_human_step

APPROVAL_BODY = """
### Delete {{ params.display_name }} ({{ params.userid }}) from WeCom?

**Backup**: {{ (ti.xcom_pull(task_ids='backup.verify_backup_manifest') or {}).get('summary', 'not verified') }}

**Successor**: {{ params.successor_userid }} — customers, customer groups and files are handed over.

Deleting the member is irreversible: a bound Tencent Exmail mailbox is deleted with it.
Approve only when the backup above says *all verified*.
"""


class ApproveDeletionOperator(DueTimeMixin, ApprovalOperator):
    """``ApprovalOperator`` assigned to the case's eligible approvers; the answer is written to the ledger."""

    template_fields = (*ApprovalOperator.template_fields, "approvers", "expected_by")
    ui_color = "#fde2e2"

    def __init__(self, *, approvers: str = "{{ params.approvers | join(',') }}", **kwargs: Any) -> None:
        kwargs.setdefault("subject", "Approve deleting {{ params.display_name }} ({{ params.userid }})")
        kwargs.setdefault("body", APPROVAL_BODY)
        super().__init__(**with_retry_defaults(kwargs))  # an answer lost in a race asks again
        self.approvers = approvers
        self.step_id = self.task_id

    def execute(self, context: Context) -> Any:
        from offboarding.cases.approvers import assigned_approvers
        from offboarding.operators.approvers import check_separation_of_duties
        from offboarding.operators.controls import with_corrections

        case = with_corrections(Case.from_context(context), ("approvers",), log=self.log)
        check_separation_of_duties(case, f"{self.task_id}: asking for the approval")
        eligible = {a.lower() for a in assigned_approvers(case.conf, case.kind)}
        approvers = case.conf.get("approvers")
        named = approvers if approvers != context["params"].get("approvers") else self.approvers
        self.assigned_users = [u for u in _users(named) if u["id"].lower() in eligible]
        if not self.assigned_users:
            raise ValueError("approvers: the trigger form names no approver who may approve this case")
        announce_human_step(context, self.task_id, self.subject, self.assigned_users, self.due_time())
        return super().execute(context)

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        if "error" not in event:
            self._record_answer(context, event)
        return super().execute_complete(context, event)

    def _record_answer(self, context: Context, event: dict[str, Any]) -> None:
        from offboarding.cases.approvers import may_approve
        from offboarding.operators.approvers import (
            APPROVED_ACTION,
            NOT_COUNTED_ACTION,
            REJECTED_ACTION,
            deployment_roster,
        )

        chosen = (event.get("chosen_options") or ["?"])[0]
        responder = event.get("responded_by_user") or {}
        who = responder.get("id") or responder.get("name")
        at = event.get("responded_at")
        from offboarding.operators.controls import with_corrections

        case = with_corrections(Case.from_context(context), ("approvers",))
        result: dict[str, Any] = {
            "chosen": chosen,
            "responded_at": at.isoformat() if hasattr(at, "isoformat") else at,
            "run_id": case.run_id,
            "ti_id": str(context["ti"].id) if getattr(context["ti"], "id", None) else None,
        }
        if case.kind == "person":
            result["manifest_sha256"] = _verified_manifest_sha256(case)
        why_not = None
        if chosen == self.APPROVE:
            why_not = may_approve(
                who, case.conf, case.kind, triggered_by=case.triggered_by, roster=deployment_roster()
            )
        action = (
            REJECTED_ACTION if chosen != self.APPROVE else NOT_COUNTED_ACTION if why_not else APPROVED_ACTION
        )
        if why_not:
            result["not_counted"] = why_not
        case.ledger.append(
            action,
            actor=str(who or "timeout-default"),
            step=self.task_id,
            request={"subject": self.subject},
            result=result,
            key=case.case_id,
        )
        if why_not:
            raise AirflowFailException(
                f"{self.task_id}: the approval does not count: {why_not}. Clear this task so an assigned "
                "approver answers"
            )


def _verified_manifest_sha256(case: Case) -> str | None:
    """The sha256 of the backup manifest on disk if the ledger has it verified, else None."""
    from offboarding.operators.backup import verified_backup_entry

    try:
        verified = verified_backup_entry(case.store, case.ledger, case.case_id)
    except Exception:
        return None
    if verified is None or not isinstance(verified.result, dict):
        return None
    sha256 = verified.result.get("manifest_sha256") or verified.key
    return str(sha256) if sha256 else None
