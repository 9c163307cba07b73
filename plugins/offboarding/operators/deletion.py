"""Deletion and what follows it: delete the member, then hand over what is left as 离职继承.

* :class:`DeleteMemberOperator` — ``user/delete``, only with a verified backup and Airflow's record of
  an eligible approver's approval in this run (:mod:`offboarding.operators.approvers`).
* :class:`TransferResignedCustomersOperator` — the deleted member's unassigned customers and resigned
  customer groups → the successor; ``handover/customers_resigned.json`` and
  ``handover/customer_groups_resigned.json``.

Ledger actions (key = the member's userid): ``member.deleted`` (WeCom's answer and the read-back;
``member.delete_planned`` in a dry run, which deletes nothing),
``member.delete_refused`` (the creator, 301005), ``customers.inherited``, ``customer_groups.inherited``
(result ``successor``, ``day``, ``started``: counted toward WeCom's daily group allowance).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from airflow.sdk import Context
from airflow.sdk.exceptions import AirflowFailException

from offboarding.operators.base import Case, CaseOperator, require_intact_evidence

if TYPE_CHECKING:
    from offboarding.steps.deleting import Deletion

DELETED_ACTION = "member.deleted"
DELETE_PLANNED_ACTION = "member.delete_planned"
"""What a dry run records instead of ``member.deleted``: the deletion was only planned."""

CREATOR_MESSAGE = (
    "{userid} is the creator of the WeCom enterprise and WeCom refuses to delete the creator (301005). "
    "What to do: a super administrator transfers the creator role to another member in the WeCom admin "
    "console (管理后台), then clear this task to delete {userid}."
)


def check_deletion_allowed(case: Case, context: Context) -> dict[str, Any]:
    """The proof that deleting is allowed; AirflowFailException if not. Makes no WeCom call.

    Needs (whatever the DAG's edges say) an intact evidence ledger holding a ``backup.verified`` entry
    for the manifest on disk now (see :mod:`offboarding.operators.backup`), and the approval that
    counts: Airflow's own human-in-the-loop record of ``approve_deletion`` in this run, matching the
    ledger's ``approval.approved`` entry, given by an eligible approver for this manifest after it was
    verified (see :func:`offboarding.operators.approvers.check_airflow_approval`).
    """
    from offboarding.evidence.ledger import LedgerError
    from offboarding.operators.approvers import check_airflow_approval
    from offboarding.steps.verified_backup import (
        VERIFIED_ACTION,
        manifest_sha256_on_disk,
        verified_backup_entry,
    )

    refused = "deleting {} is refused: ".format(case.conf.get("userid"))
    try:
        chain = case.verified_chain()
        if not chain.ok:
            raise AirflowFailException(
                refused + f"the evidence ledger {case.ledger.location} is {chain.summary_text()}; an auditor "
                "could not trust what it says about the backup and the approval"
            )
        sha256 = manifest_sha256_on_disk(case.store, case.case_id)
        if sha256 is None:
            raise AirflowFailException(
                refused + f"there is no backup manifest in {case.store.case_location(case.case_id)}; run the "
                "backup group first"
            )
        verified = verified_backup_entry(case.store, case.ledger, case.case_id)
        if verified is None:
            raise AirflowFailException(
                refused + f"no {VERIFIED_ACTION} entry in the ledger matches the manifest on disk (sha256 "
                f"{sha256}): the backup was never verified or changed after verification; clear "
                "backup.verify_backup_manifest and let it pass first"
            )
        approval = check_airflow_approval(
            case,
            context,
            refused=refused,
            manifest_sha256=sha256,
            backup_verified_at=datetime.fromisoformat(verified.at),
        )
    except LedgerError as err:
        raise AirflowFailException(refused + str(err)) from None
    return {"manifest_sha256": sha256, "backup_verified_seq": verified.seq, **approval}


class DeleteMemberOperator(CaseOperator):
    """Delete the member from WeCom (``user/delete``): irreversible, so it checks its proof itself.

    Refuses before any WeCom call unless :func:`check_deletion_allowed` passes. Reads the member first:
    already gone (60111) counts as done, without a write. The corp creator (301005) fails with the manual
    step. After deleting, reads back (``user/get`` → 60111) and records WeCom's answer and the read-back
    as ``member.deleted``. A bound Tencent Exmail mailbox is deleted with the member.
    """

    def run(self, case: Case, context: Context) -> dict[str, Any]:
        from offboarding.operators.adapter import member_userid, record_evidence
        from offboarding.operators.deadlines import LAST_WORKING_DAY, require_deadline_passed
        from offboarding.operators.hold import require_not_held

        userid = member_userid(case)
        require_not_held(self, case, context, what=f"deleting {userid}")  # a legal hold: wait, no slot
        # The ledger is checked against the upstream anchors before this step writes anything to it (the
        # deadline check records deadline.reached): an entry appended to a ledger cut short would hide
        # the cut behind a chain that looks rewritten instead.
        require_intact_evidence(case, f"deleting {userid} is refused", step=self.task_id)
        require_deadline_passed(
            case, LAST_WORKING_DAY, step=self.task_id, what=f"deleting {userid}", context=context
        )
        proof = check_deletion_allowed(case, context)
        deletion = self._delete(case, userid, proof)
        summary = {"member": userid, "wecom_answer": deletion.answer, "read_back": deletion.read_back}
        record_evidence(
            case,
            self.task_id,
            DELETE_PLANNED_ACTION if case.dry_run else DELETED_ACTION,
            key=userid,
            request={"member": userid, **proof},
            result=summary,
        )
        if deletion.still_there and not case.dry_run:
            raise AirflowFailException(
                f"WeCom answered {deletion.answer!r} for deleting {userid} but user/get still finds the "
                "member; check the member in the WeCom admin console, then clear this task"
            )
        self.log.info(
            "%s %s (WeCom's answer: %s; read back: %s)",
            userid,
            "would be deleted from WeCom (dry run: nothing sent)"
            if case.dry_run
            else "is deleted from WeCom",
            deletion.answer,
            "still found (dry run)" if deletion.still_there else "60111 not found",
        )
        return summary

    def _delete(self, case: Case, userid: str, proof: Mapping[str, Any]) -> Deletion:
        """The one core call, after every gate passed; the creator (301005) fails with the manual step."""
        from offboarding.operators.adapter import record_evidence
        from offboarding.steps.deleting import delete_member
        from offboarding.wecom.errors import WeComCreatorCannotBeDeleted

        try:
            return delete_member(self.hook, userid)
        except WeComCreatorCannotBeDeleted as err:
            record_evidence(
                case,
                self.task_id,
                "member.delete_refused",
                key=userid,
                request={"member": userid, **proof},
                result={"errcode": err.errcode, "reason": "the member is the enterprise's creator"},
            )
            raise AirflowFailException(CREATOR_MESSAGE.format(userid=userid)) from None


class TransferResignedCustomersOperator(CaseOperator):
    """离职继承: after deletion, hand the member's remaining customers and customer groups to the successor.

    Customers: the member's entries in ``get_unassigned_list``, minus those already in a transfer to the
    successor (on-job or resigned, per ``transfer_result``) and those that failed on a previous try →
    ``resigned/transfer_customer`` (≤ 100 per call). Groups: ``groupchat/list`` status 1 owned by the member
    → ``groupchat/transfer`` (≤ 100 per call, ≤ 300 a day). Both lists shrink as WeCom works, so a rerun
    sends only what is left. Per-item results are written to the two files and summed up in the ledger.
    """

    def run(self, case: Case, context: Context) -> dict[str, Any]:
        from offboarding.operators.adapter import handover_pair
        from offboarding.steps.corp import read_member

        member, successor = handover_pair(case)
        member_exists = read_member(self.hook, member) is not None
        customers = self._customers(case, member, successor)
        groups = self._groups(case, member, successor)
        summary = {
            "member": member,
            "successor": successor,
            "member_exists": member_exists,
            **customers,
            **groups,
        }
        if member_exists:
            self.log.warning(
                "%s still exists in WeCom: nothing is unassigned until the member is deleted%s",
                member,
                " (dry run: the deletion was only planned)" if case.dry_run else "",
            )
        self.log.info(
            "Resigned transfer %s → %s: %d unassigned customers (%d sent, %d failed), %d resigned groups "
            "(%d sent, %d failed, %d deferred)",
            member,
            successor,
            summary["customers"],
            summary["customers_sent"],
            summary["customers_failed"],
            summary["groups"],
            summary["groups_sent"],
            summary["groups_failed"],
            summary["groups_deferred"],
        )
        if summary["groups_deferred"]:
            from offboarding.steps.outcomes import GROUP_TRANSFERS_PER_DAY

            self.log.warning(
                "%d groups exceed WeCom's daily allowance of %d: rerun this task tomorrow to send them",
                summary["groups_deferred"],
                GROUP_TRANSFERS_PER_DAY,
            )
        return summary

    def _customers(self, case: Case, member: str, successor: str) -> dict[str, Any]:
        from offboarding.operators.adapter import record_evidence
        from offboarding.steps import resigned_handover

        result = resigned_handover.inherit_customers(self.hook, case.store, case.case_id, member, successor)
        record_evidence(
            case,
            self.task_id,
            "customers.inherited",
            key=member,
            request={
                "member": member,
                "successor": successor,
                "kind": "resigned",
                "sent": result["customers_sent"],
            },
            result={"successor": successor, **result},
        )
        return result

    def _groups(self, case: Case, member: str, successor: str) -> dict[str, Any]:
        from offboarding.operators.adapter import record_evidence
        from offboarding.steps import resigned_handover

        result, day = resigned_handover.inherit_customer_groups(
            self.hook, case.store, case.ledger, case.case_id, member, successor
        )
        record_evidence(
            case,
            self.task_id,
            "customer_groups.inherited",
            key=member,
            request={
                "member": member,
                "successor": successor,
                "kind": "resigned",
                "sent": result["groups_sent"],
            },
            result={
                "successor": successor,
                "day": day.isoformat(),
                "started": result["groups_started"],
                **result,
            },
        )
        return result
