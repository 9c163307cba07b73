"""Handover while the member still exists: customers, customer groups, tags and chats, then disable.

Four tasks of the ``handover`` group, each safe to rerun: it reads WeCom first and acts only on what is
left, and items that failed before (kept in the task's results file) are not sent again.

* :class:`HandOverCustomersOperator` (在职继承) — customers → successor, ``handover/customers_onjob.json``.
* :class:`HandOverCustomerGroupsOperator` — customer groups → successor (≤ 300 per day),
  ``handover/customer_groups_onjob.json``.
* :class:`LeaveTagsAndGroupChatsOperator` — out of the app's tags and app chats,
  ``handover/tags_and_chats.json``.
* :class:`DisableMemberOperator` — ``enable=0`` (+ the leavers' department), read back.

Each task checks the form and the legal deadline, calls one step of :mod:`offboarding.steps` (results
files: :mod:`offboarding.steps.handover_files`) and records the outcome in the evidence ledger.

Ledger actions (key = the member's userid): ``customers.handed_over``, ``customer_groups.handed_over``
(result ``successor``, ``day`` (Asia/Shanghai) and ``started``: what counts toward WeCom's daily group
allowance), ``memberships.left``, ``member.disabled``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from airflow.sdk import Context
from airflow.sdk.exceptions import AirflowFailException

from offboarding.operators.backup_common import SNAPSHOT_TASK_ID
from offboarding.operators.base import Case, CaseOperator


def require_last_working_day(task: CaseOperator, case: Case, context: Context, what: str) -> None:
    """The gate of every handover task: the member's last working day is over (else the task waits)."""
    from offboarding.operators.deadlines import LAST_WORKING_DAY, require_deadline_passed

    require_deadline_passed(case, LAST_WORKING_DAY, step=task.task_id, what=what, context=context)


# -- customers and customer groups -------------------------------------------------------------------

GONE_NOTE = "member already deleted: nothing to hand over on-job"


class _OnJobHandoverOperator(CaseOperator):
    """The two on-job handover tasks: form, deadline, one step, the ledger entry ``action``."""

    ledger_action: str
    """The ledger action (key: the member)."""
    deadline_what: str
    """What the deadline gate names, with ``{member}``."""
    when_gone: ClassVar[Mapping[str, int]]
    """The counts returned when the member is already deleted."""
    note_when_gone: ClassVar[Mapping[str, Any]]
    """What the ledger adds when the member is already deleted."""

    def run(self, case: Case, context: Context) -> dict[str, Any]:
        from offboarding.operators.adapter import handover_pair, record_evidence

        member, successor = handover_pair(case)
        require_last_working_day(self, case, context, self.deadline_what.format(member=member))
        request = {"member": member, "successor": successor, "kind": "onjob"}
        summary = self.hand_over(case, member, successor)
        if summary is None:
            summary = {"member": member, "successor": successor, "member_deleted": True, **self.when_gone}
            self.log.info(
                "%s no longer exists in WeCom: the resigned transfer after deletion takes over", member
            )
            record_evidence(
                case,
                self.task_id,
                self.ledger_action,
                key=member,
                request=request,
                result={**summary, **self.note_when_gone},
            )
            return summary
        record_evidence(
            case,
            self.task_id,
            self.ledger_action,
            key=member,
            request={**request, "sent": summary["sent"]},
            result=summary,
        )
        self.report(summary)
        return summary

    def hand_over(self, case: Case, member: str, successor: str) -> dict[str, Any] | None:  # pragma: no cover
        raise NotImplementedError

    def report(self, summary: Mapping[str, Any]) -> None:  # pragma: no cover
        raise NotImplementedError


class HandOverCustomersOperator(_OnJobHandoverOperator):
    """在职继承: hand every customer the member follows to ``successor_userid`` (on-job transfer).

    Reads ``transfer_result`` first: customers already in transfer or transferred to the successor are
    not sent again, nor are customers that failed before (e.g. 40128, too many transfers in 90 days):
    those are kept in ``handover/customers_onjob.json`` for the resigned transfer after deletion. WeCom
    answers per customer; "started" means WeCom takes the customer over automatically after 24 h.
    Member already deleted → nothing to do (recorded). Returns counts and the file path.
    """

    ledger_action = "customers.handed_over"
    deadline_what = "handing over {member}'s customers"
    when_gone: ClassVar[Mapping[str, int]] = {"customers": 0, "sent": 0}
    note_when_gone: ClassVar[Mapping[str, Any]] = {"note": GONE_NOTE}

    def hand_over(self, case: Case, member: str, successor: str) -> dict[str, Any] | None:
        from offboarding.steps import onjob_handover

        return onjob_handover.hand_over_customers(self.hook, case.store, case.case_id, member, successor)

    def report(self, summary: Mapping[str, Any]) -> None:
        self.log.info(
            "Customers of %s → %s: %d in all, %d sent now (%d started, %d already in progress), %d were "
            "already in transfer, %d failed (kept for the resigned transfer after deletion: %s)",
            summary["member"],
            summary["successor"],
            summary["customers"],
            summary["sent"],
            summary["started"],
            summary["in_progress"],
            summary["in_transfer_before"],
            summary["failed"],
            summary["failed_errcodes"] or "none",
        )


class HandOverCustomerGroupsOperator(_OnJobHandoverOperator):
    """Hand the customer groups the member owns to the successor (``groupchat/onjob_transfer``).

    WeCom changes the owner at once, so a rerun finds only the groups still owned by the member; groups
    that failed before are kept in ``handover/customer_groups_onjob.json`` and not sent again. At most
    300 groups a day go from one owner to one new owner: beyond what today's allowance leaves (counted
    from the ledger), groups are recorded as deferred for a rerun tomorrow or the resigned transfer.
    """

    ledger_action = "customer_groups.handed_over"
    deadline_what = "handing over {member}'s customer groups"
    when_gone: ClassVar[Mapping[str, int]] = {"owned": 0, "sent": 0}
    note_when_gone: ClassVar[Mapping[str, Any]] = {"started": 0, "note": GONE_NOTE}

    def hand_over(self, case: Case, member: str, successor: str) -> dict[str, Any] | None:
        from offboarding.steps import onjob_handover

        return onjob_handover.hand_over_customer_groups(
            self.hook, case.store, case.ledger, case.case_id, member, successor
        )

    def report(self, summary: Mapping[str, Any]) -> None:
        self.log.info(
            "Customer groups of %s → %s: %d owned, %d sent (%d handed over), %d failed, %d deferred",
            summary["member"],
            summary["successor"],
            summary["owned"],
            summary["sent"],
            summary["started"],
            summary["failed"],
            summary["deferred"],
        )
        if summary["deferred"]:
            from offboarding.steps.outcomes import GROUP_TRANSFERS_PER_DAY

            self.log.warning(
                "%d groups exceed WeCom's daily allowance of %d groups from %s to %s: they are left for a "
                "rerun of this task tomorrow or for the resigned transfer after deletion",
                summary["deferred"],
                GROUP_TRANSFERS_PER_DAY,
                summary["member"],
                summary["successor"],
            )


# -- tags and app chats -------------------------------------------------------------------------------


class LeaveTagsAndGroupChatsOperator(CaseOperator):
    """Take the member out of the app-created tags and app chats that contain them.

    Which ones: the snapshot's XCom (``backup.snapshot_profile_and_memberships``: ``tags``, ``app_chats``)
    when present, else every tag (``tag/list``); app chats also include the connection's ``app_chat_ids``.
    Each is read first, so a rerun touches only those still holding the member. When the member owns an
    app chat, the successor becomes its owner in the same update (added to the chat if needed). Tags and
    chats WeCom does not let this app change (81011, 86008, ...) are surfaced with what to do by hand.
    """

    def run(self, case: Case, context: Context) -> dict[str, Any]:
        from offboarding.operators.adapter import handover_pair, record_evidence

        member, successor = handover_pair(case)
        require_last_working_day(self, case, context, f"removing {member} from tags and group chats")
        from offboarding.steps import leaving
        from offboarding.steps.corp import read_member
        from offboarding.steps.handover_files import TAGS_AND_CHATS_PATH, load_outcomes, save_outcomes

        if read_member(self.hook, member) is None:
            return self._member_gone(case, member)
        snapshot = _snapshot(context)
        held = leaving.memberships_of(self.hook, snapshot, [member])
        previous = load_outcomes(case.store, case.case_id, TAGS_AND_CHATS_PATH, member, successor)
        items = leaving.leave_tags_and_chats(self.hook, successor, held, {member: previous})[member]
        counts = save_outcomes(
            case.store,
            case.case_id,
            TAGS_AND_CHATS_PATH,
            member,
            successor,
            items,
            source="snapshot" if snapshot else "wecom",
        )
        failures = [{"item": k, **v} for k, v in items.items() if v["outcome"] == "failed"]
        summary = {
            "member": member,
            "successor": successor,
            "tags_left": sum(
                1 for k, v in items.items() if k.startswith("tag:") and v["outcome"] == "removed"
            ),
            "chats_left": sum(
                1 for k, v in items.items() if k.startswith("chat:") and v["outcome"].startswith("removed")
            ),
            "chats_handed_to_successor": counts.get("removed_owner_handed_over", 0),
            "not_a_member": counts.get("not_a_member", 0),
            "failed": failures,
            "file": TAGS_AND_CHATS_PATH,
        }
        record_evidence(
            case,
            self.task_id,
            "memberships.left",
            key=member,
            request={
                "member": member,
                "tags": list(held[member].tag_ids),
                "app_chats": list(held[member].chat_ids),
            },
            result=summary,
        )
        self.log.info(
            "%s left %d tags and %d app chats (%d handed to %s); %d to do by hand",
            member,
            summary["tags_left"],
            summary["chats_left"],
            summary["chats_handed_to_successor"],
            successor,
            len(failures),
        )
        for failure in failures:
            self.log.warning("%s: %s", failure["item"], failure.get("what_to_do") or failure.get("errmsg"))
        return summary

    def _member_gone(self, case: Case, member: str) -> dict[str, Any]:
        from offboarding.operators.adapter import record_evidence

        summary = {"member": member, "member_deleted": True, "tags_left": 0, "chats_left": 0, "failed": []}
        record_evidence(
            case,
            self.task_id,
            "memberships.left",
            key=member,
            request={"member": member},
            result={**summary, "note": "member already deleted: WeCom removed them from tags"},
        )
        return summary


def _snapshot(context: Context) -> Mapping[str, Any] | None:
    """The snapshot task's XCom, if it ran in this DAG run."""
    ti = context.get("ti")
    if ti is None:
        return None
    value = ti.xcom_pull(task_ids=SNAPSHOT_TASK_ID)
    return value if isinstance(value, Mapping) else None


# -- disable ------------------------------------------------------------------------------------------


class DisableMemberOperator(CaseOperator):
    """Disable the member (``user/update enable=0``, reversible) and move them to the leavers' department.

    The department is the connection extra ``leavers_department_id`` (not moved when unset). Reads the
    member first (already disabled and in place, or already deleted → recorded, no write), and reads them
    back after the update: the ledger's ``member.disabled`` holds the read-back (status 2).
    """

    def run(self, case: Case, context: Context) -> dict[str, Any]:
        from offboarding.operators.adapter import member_userid, record_evidence

        member = member_userid(case)
        require_last_working_day(self, case, context, f"disabling {member}")
        from offboarding.steps import disabling

        (disabled,) = disabling.disable_members(self.hook, [member])
        if disabled.gone:
            summary: dict[str, Any] = {"member": member, "already_deleted": True, "changed": False}
            record_evidence(
                case,
                self.task_id,
                "member.disabled",
                key=member,
                request={"member": member},
                result={**summary, "note": "member already deleted: nothing to disable"},
            )
            self.log.info("%s no longer exists in WeCom: nothing to disable", member)
            return summary
        read_back = dict(disabled.read_back)
        summary = {"member": member, "changed": bool(disabled.changes), "read_back": read_back}
        record_evidence(
            case,
            self.task_id,
            "member.disabled",
            key=member,
            request={"member": member, "changes": dict(disabled.changes), "before": dict(disabled.before)},
            result=summary,
        )
        if not disabled.done and not case.dry_run:
            raise AirflowFailException(
                f"{member}: WeCom accepted the update but reads back status {read_back['status']} and "
                f"departments {read_back['department']}; check the member in the WeCom admin console, then "
                "clear this task"
            )
        self.log.info(
            "%s is disabled (read back: status %s, departments %s)%s",
            member,
            read_back["status"],
            read_back["department"],
            "" if disabled.changes else " — it already was; nothing sent",
        )
        return summary
