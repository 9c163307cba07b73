"""The ``offboard_all_members`` tasks of ``dissolve_company``: plan, one mapped task per batch, summary.

* :class:`PlanMemberBatchesOperator` (``plan_member_batches``) — every member by cursor, leaders last,
  the plan in ``members/plan.json``; returns the batches of everyone but the leaders (the mapped task
  expands over them) and pushes the plan in numbers as XCom ``plan_summary`` for the approval screen.
* :class:`OffboardMemberBatchOperator` (``offboard_member_batch``, mapped) — for its batch of ≤ 200:
  back up (verified), hand over customers and groups, ``user/batchdelete``, resigned transfers; per
  member progress in ``members/<batch>/progress.json``; returns counts. The same operator with
  ``batch="leaders"`` (``offboard_leaders``) does the leaders' batches after every other batch.
* ``summarise_member_offboarding``: see :mod:`offboarding.operators.company_member_summary`.

Each task checks its gates, then calls the steps of :mod:`offboarding.steps` (the member plan:
:mod:`~offboarding.steps.batches`; per-member progress: :mod:`~offboarding.steps.progress`; backup:
:mod:`~offboarding.steps.member_backup`; handover: :mod:`~offboarding.steps.batch_handover`; deletion:
:mod:`~offboarding.steps.deleting`) and records the evidence.

Ledger actions: ``members.planned``, ``backup.batch_verified`` (key: the part manifest's sha256),
``members.deleted`` (``members.delete_planned`` in a dry run) and ``handover.member_batch`` (key: the
batch id).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow.sdk import Context
from airflow.sdk.exceptions import AirflowFailException

from offboarding.operators.base import Case, CaseOperator, require_intact_evidence

if TYPE_CHECKING:
    from offboarding.steps.batches import MemberBatch, MemberPlan
    from offboarding.steps.member_backup import ReceivedGroups
    from offboarding.steps.progress import BatchProgress, StepObserver

GROUP_ID = "offboard_all_members"
PLAN_TASK_ID = f"{GROUP_ID}.plan_member_batches"
BATCH_TASK_ID = f"{GROUP_ID}.offboard_member_batch"
LEADERS_TASK_ID = f"{GROUP_ID}.offboard_leaders"
PLAN_SUMMARY_KEY = "plan_summary"
LEADERS = "leaders"
"""``OffboardMemberBatchOperator(batch=LEADERS)``: the leaders' batches of the plan."""
LEDGER_FAILURES_SHOWN = 50
"""Failures listed in a ledger entry; the full list is in the progress and outcome files."""
ACTIVE_STATUS = 1


def userid_field(case: Case, name: str) -> str:
    """A WeCom userid from the form, or a failure naming the field before anything happens."""
    from offboarding.cases.fields import WECOM_USERID_PATTERN

    value = case.conf.get(name)
    if not isinstance(value, str) or not re.fullmatch(WECOM_USERID_PATTERN, value):
        raise AirflowFailException(f"{name}: must be a WeCom userid (成员UserID), got {value!r}")
    return value


def batch_successor(case: Case, plan: MemberPlan, batch: MemberBatch) -> str:
    """Who inherits ``batch``'s customers and groups, from the run's form (never from the batch's XCom): a
    company's ``successor_userid``; a layoff list's one successor of every person in the batch."""
    if case.kind != "layoff":
        return userid_field(case, "successor_userid")
    successors = case.layoff.successors
    try:
        heirs = {successors[userid] for userid in plan.members_of(batch.batch_id)}
    except KeyError as err:
        raise AirflowFailException(
            f"{batch.label}: {err.args[0]} is in the member plan but not on the list (persons); the plan "
            "does not belong to this form: archive the case folder and trigger the case again"
        ) from None
    if len(heirs) != 1:
        raise AirflowFailException(
            f"{batch.label}: its persons have successors {', '.join(sorted(heirs))} in the form, a batch has "
            "one; the plan does not belong to this form: archive the case folder and trigger the case again"
        )
    return heirs.pop()


def check_member_deletion_approved(case: Case, context: Context) -> dict[str, Any]:
    """The approval that counts, whatever the DAG's edges say: Airflow's own record of
    ``approve_member_deletion`` in this run, given by an eligible approver other than the legal
    representative and matching the ledger's entry (see :mod:`offboarding.operators.approvers`)."""
    from offboarding.evidence.ledger import LedgerError
    from offboarding.operators.approvers import check_airflow_approval

    refused = "removing members is refused: "
    try:
        return check_airflow_approval(case, context, refused=refused)
    except LedgerError as err:
        raise AirflowFailException(refused + str(err)) from None


def retention_days() -> int:
    """The backup retention from the duration policy (``backup.retention_days``)."""
    from offboarding.policy import PolicyError, get_policy

    try:
        return get_policy().backup.retention_days
    except PolicyError as err:
        raise AirflowFailException(str(err)) from None


def saved_plan(case: Case) -> MemberPlan | None:
    from offboarding.steps.batches import load_plan

    try:
        return load_plan(case.store, case.case_id)
    except ValueError as err:
        raise AirflowFailException(str(err)) from None


def require_plan(case: Case) -> MemberPlan:
    """The case's member plan; fails with what to do when there is none."""
    from offboarding.steps.batches import PLAN_PATH

    plan = saved_plan(case)
    if plan is None:
        raise AirflowFailException(
            f"there is no member plan {PLAN_PATH} in {case.store.case_location(case.case_id)}: "
            "plan_member_batches must run first"
        )
    return plan


def groups_received(case: Case, plan: MemberPlan, successor: str) -> ReceivedGroups:
    """The customer groups the regular batches handed to ``successor``, each with the groups file of the
    verified backup part of its former owner (read from the batches' progress files)."""
    from offboarding.steps.batch_handover import groups_handed_over
    from offboarding.steps.member_backup import GROUPS_FILE, ReceivedGroups, part_folder
    from offboarding.steps.progress import BatchProgress

    backed_up_in: dict[str, str] = {}
    for batch in plan.regular:
        try:
            progress = BatchProgress.load(
                case.store, case.case_id, batch.batch_id, plan.members_of(batch.batch_id)
            )
        except ValueError as err:
            raise AirflowFailException(str(err)) from None
        for userid in progress.order:
            record = progress.record(userid)
            if record.get("backup") != "verified" or not record.get("backup_part"):
                continue
            groups_file = f"{part_folder(batch.batch_id, int(record['backup_part']))}/{GROUPS_FILE}"
            backed_up_in.update(dict.fromkeys(groups_handed_over(record), groups_file))
    return ReceivedGroups(successor, backed_up_in)


# -- plan ---------------------------------------------------------------------------------------------


class PlanMemberBatchesOperator(CaseOperator):
    """List every member (``user/list_id``), put the leaders last, cut in batches of 200, save the plan.

    Checks first that the successor and the admin of the form are members (the successor active).
    The plan is made once per case: a rerun returns the saved plan, so batches never shift.
    Returns the batches but the leaders' (``[{"batch_id", "number", "of", "first", "last", "leaders",
    "label"}]``); the leaders' batches are done by ``offboard_leaders`` after all of them.
    """

    def run(self, case: Case, context: Context) -> list[dict[str, Any]]:
        from offboarding.operators.company_case import admin_userid
        from offboarding.steps.batches import (
            KEPT_ADMIN,
            KEPT_SUCCESSOR,
            admins_from_connection,
            make_plan,
            save_plan,
        )

        successor = userid_field(case, "successor_userid")
        admin = userid_field(case, "admin_userid") if admin_userid(case.conf) else None
        plan = saved_plan(case)
        if plan is None:
            members = list(self.hook.contacts.iter_member_ids())
            self._check_leaders(members, successor, admin)
            try:
                admins = admins_from_connection(self.hook.extras)
            except ValueError as err:
                raise AirflowFailException(f"connection {case.wecom_conn_id}: {err}") from None
            kept = {successor: KEPT_SUCCESSOR}
            if admin is not None:
                kept[admin] = KEPT_ADMIN if admin != successor else f"{KEPT_SUCCESSOR}; {KEPT_ADMIN}"
            plan = make_plan(members, admins=admins, kept=kept)
            save_plan(case.store, case.case_id, plan)
            self.record(
                "members.planned", request={"successor": successor, "admin": admin}, result=plan.summary()
            )
        else:
            self.log.info(
                "The member plan was made at %s: using it again (batches never shift)", plan.created_at
            )
        summary = plan.summary()
        context["ti"].xcom_push(key=PLAN_SUMMARY_KEY, value=summary)
        self.log.info(
            "%d members in %d batches (%d to delete); kept until the enterprise is dissolved: %s; admins "
            "deleted last: %s%s",
            summary["members"],
            summary["batches"],
            summary["to_delete"],
            ", ".join(plan.kept),
            ", ".join(plan.admins) or "none",
            f"; admins in the connection but not members: {', '.join(plan.unknown_admins)}"
            if plan.unknown_admins
            else "",
        )
        return [batch.to_xcom() for batch in plan.regular]

    def _check_leaders(self, members: list[str], successor: str, admin: str | None) -> None:
        present = set(members)
        for field, userid in (("successor_userid", successor), ("admin_userid", admin)):
            if userid is not None and userid not in present:
                raise AirflowFailException(
                    f"{field}: {userid} is not a member of the corp (user/list_id does not list them); "
                    "trigger the case again with an existing member"
                )
        status = int(self.hook.contacts.get_user(successor).get("status", ACTIVE_STATUS))
        if status != ACTIVE_STATUS:
            raise AirflowFailException(
                f"successor_userid: {successor} has status {status}, not active (1); customers can only be "
                "handed to an active member: trigger the case again with an active successor"
            )


# -- one batch ----------------------------------------------------------------------------------------


class OffboardMemberBatchOperator(CaseOperator):
    """Offboard one batch of the plan: back up, hand over, delete, inherit — resuming where it stopped.

    Refuses to start unless Airflow's record says an eligible approver approved the member deletion in
    this run (:func:`check_member_deletion_approved`). Each process takes its share
    of WeCom's per-API limit (``max_active_tis_per_dagrun`` batches run at once). Fails at the end —
    after doing all it can — when a member could not be backed up or deleted, listing them and what to
    do; per-item handover failures are kept in the progress file and the ledger without failing.

    :param batch: one element of ``plan_member_batches``' return value (mapped), or ``"leaders"`` for
        the leaders' batches of the plan (the admins, then the kept members), run after all others.
    :param after_member_step: test hook, called with ``(userid, step)`` after each member's step was
        saved (e.g. to simulate a worker crash at member 7).
    """

    ui_color = "#fde2e2"

    def __init__(
        self,
        *,
        batch: Mapping[str, Any] | str,
        after_member_step: StepObserver | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.batch = batch
        self.after_member_step = after_member_step

    def run(self, case: Case, context: Context) -> dict[str, Any]:
        from offboarding.operators.deadlines import LAST_WORKING_DAY, NOTICE_PERIOD, require_deadline_passed
        from offboarding.operators.hold import require_not_held

        require_not_held(self, case, context, what=f"{self.task_id} (deleting members)")  # a legal hold
        # The ledger first: the notice period is computed from its publication answer, and the deadline
        # check records deadline.reached in it; neither may rest on a ledger cut short or rewritten.
        require_intact_evidence(case, "removing members is refused", step=self.task_id)
        deadline = LAST_WORKING_DAY if case.kind == "layoff" else NOTICE_PERIOD
        require_deadline_passed(case, deadline, step=self.task_id, what="removing members", context=context)
        from offboarding.steps.batches import MemberBatch

        approval = check_member_deletion_approved(case, context)
        plan = require_plan(case)
        if self.batch != LEADERS:
            try:
                batch = MemberBatch.from_xcom(self.batch)
            except ValueError as err:
                raise AirflowFailException(str(err)) from None
            return self._offboard(case, plan, batch, batch_successor(case, plan, batch), approval)
        successor = userid_field(case, "successor_userid")
        results = [self._offboard(case, plan, batch, successor, approval) for batch in plan.leader_batches]
        totals: Counter[str] = Counter()
        for result in results:
            totals.update({k: v for k, v in result.items() if isinstance(v, int) and not isinstance(v, bool)})
        return {"label": LEADERS, **totals, "batches": results}

    def _offboard(
        self, case: Case, plan: MemberPlan, batch: MemberBatch, successor: str, approval: dict[str, Any]
    ) -> dict[str, Any]:
        from offboarding.steps.batch_handover import (
            hand_over_customers,
            hand_over_groups,
            transfer_resigned,
        )
        from offboarding.steps.batches import share_rate_limit
        from offboarding.steps.deleting import delete_members
        from offboarding.steps.member_backup import read_holdings
        from offboarding.steps.outcomes import china_today
        from offboarding.steps.progress import BatchProgress

        try:
            members = plan.members_of(batch.batch_id)
            progress = BatchProgress.load(
                case.store, case.case_id, batch.batch_id, members, observer=self.after_member_step
            )
        except (KeyError, ValueError) as err:
            raise AirflowFailException(str(err).strip("'\"")) from None
        rate = share_rate_limit(self.hook, self.max_active_tis_per_dagrun or 1)
        self.log.info(
            "%s: %d members; WeCom calls limited to %.1f/s per API", batch.label, len(members), rate
        )
        for userid, reason in plan.kept.items():
            if userid in progress.members:
                progress.record(userid)["kept"] = reason
        calls: Counter[str] = Counter()
        self._back_up(case, plan, batch, progress, successor)
        holdings = read_holdings(case.store, case.case_id, [p["folder"] for p in progress.backup_parts])
        active = [
            u
            for u in members
            if progress.record(u).get("backup") == "verified" and not progress.record(u).get("kept")
        ]
        day = china_today()
        calls["transfer_customer"] = hand_over_customers(self.hook, progress, active, successor, holdings)
        calls["groupchat_onjob_transfer"] = hand_over_groups(
            self.hook, progress, active, successor, holdings, day
        )
        deletion = delete_members(self.hook, progress, active)
        self._record_deletion(case, batch, deletion, approval)
        deleted = [u for u in active if progress.record(u).get("deleted")]
        calls["resigned_transfers"] = transfer_resigned(self.hook, progress, deleted, successor, day)
        return self._finish(case, batch, members, progress, calls, rate, successor)

    def _back_up(
        self, case: Case, plan: MemberPlan, batch: MemberBatch, progress: BatchProgress, successor: str
    ) -> None:
        """Back up the members not backed up yet. The leaders' backup lists the groups the other batches
        handed to the successor by reference: those batches' verified backups hold them."""
        from offboarding.operators.adapter import record_evidence, step_failures_fail_the_task
        from offboarding.steps.member_backup import back_up_members, part_folder

        todo = [u for u in progress.order if progress.record(u).get("backup") not in ("verified", "gone")]
        if not todo:
            return
        received = groups_received(case, plan, successor) if batch.leaders else None
        part = len(progress.backup_parts) + 1
        folder = part_folder(batch.batch_id, part)
        company = case.conf.get("company_name") or case.conf.get("list_name") or case.case_id
        with step_failures_fail_the_task():  # the backup does not read back as written: nobody is deleted
            backup = back_up_members(
                self.hook,
                case.store,
                case.case_id,
                folder,
                todo,
                subject=f"{company}: members of {batch.label}",
                retention_days=retention_days(),
                received=received,
            )
        progress.backup_parts.append(
            {"part": part, "folder": folder, "manifest_sha256": backup.manifest_sha256, "members": len(todo)}
        )
        for userid in backup.backed_up:
            record = progress.record(userid)
            record.update(backup="verified", backup_part=part)
            record.pop("backup_error", None)
        for userid in backup.gone:
            progress.record(userid)["backup"] = "gone"
        for userid, error in backup.failed.items():
            progress.record(userid).update(backup="failed", backup_error=error)
        progress.save()
        record_evidence(
            case,
            self.task_id,
            "backup.batch_verified",
            key=backup.manifest_sha256,
            request={"batch": batch.batch_id, "folder": folder, "members": len(todo)},
            result={
                "manifest_path": f"{folder}/manifest.json",
                "manifest_sha256": backup.manifest_sha256,
                "summary": backup.summary,
                "backed_up": len(backup.backed_up),
                "customers": backup.customers,
                "groups": backup.groups,
                "groups_backed_up_earlier": backup.groups_backed_up_earlier,
                "gone": backup.gone,
                "failed": [{"member": u, **e} for u, e in backup.failed.items()][:LEDGER_FAILURES_SHOWN],
            },
        )
        self.log.info(
            "Backed up %d of %d members (%d customers, %d groups, of which %d listed by reference to the "
            "earlier batch that backed them up) in %s: %s",
            len(backup.backed_up),
            len(todo),
            backup.customers,
            backup.groups,
            backup.groups_backed_up_earlier,
            folder,
            backup.summary,
        )

    def _record_deletion(
        self, case: Case, batch: MemberBatch, deletion: dict[str, Any], approval: dict[str, Any]
    ) -> None:
        from offboarding.operators.adapter import record_evidence

        if not any(
            deletion[k] for k in ("deleted", "already_gone", "failed", "confirmed_after_interruption")
        ):
            return
        record_evidence(
            case,
            self.task_id,
            "members.delete_planned" if case.dry_run else "members.deleted",
            key=batch.batch_id,
            request={"batch": batch.batch_id, "call": deletion["call"], **approval},
            result={
                k: deletion[k] for k in ("deleted", "already_gone", "failed", "confirmed_after_interruption")
            },
        )
        self.log.info(
            "%s: %d deleted, %d already gone, %d refused by WeCom",
            batch.label,
            len(deletion["deleted"]) + len(deletion["confirmed_after_interruption"]),
            len(deletion["already_gone"]),
            len(deletion["failed"]),
        )

    def _finish(
        self,
        case: Case,
        batch: MemberBatch,
        members: list[str],
        progress: BatchProgress,
        calls: Counter[str],
        rate: float,
        successor: str,
    ) -> dict[str, Any]:
        from offboarding.operators.adapter import record_evidence
        from offboarding.steps.progress import progress_path

        counts = progress.counts()
        member_failures = progress.member_failures()
        item_failures = progress.item_failures()
        summary = {
            "batch_id": batch.batch_id,
            "label": batch.label,
            "members": len(members),
            **counts,
            "items_not_handed_over": len(item_failures),
            "progress_file": progress_path(batch.batch_id),
            "backup_parts": len(progress.backup_parts),
            "wecom_handover_calls": dict(calls),
            "calls_per_second": round(rate, 1),
        }
        record_evidence(
            case,
            self.task_id,
            "handover.member_batch",
            key=batch.batch_id,
            request={
                "batch": batch.batch_id,
                "members": len(members),
                "successor": successor,
            },
            result={
                **summary,
                "total": len(members),
                "failed": (member_failures + item_failures)[:LEDGER_FAILURES_SHOWN],
            },
        )
        self.log.info(
            "%s: %d offboarded, %d kept, %d already gone, %d failed, %d customers/groups not handed over",
            batch.label,
            counts["offboarded"],
            counts["kept"],
            counts["already_gone"],
            len(member_failures),
            len(item_failures),
        )
        if member_failures:
            listed = "; ".join(
                f"{f['member']} ({f['outcome']}: {f.get('errcode')} {f.get('errmsg', '')})"
                for f in member_failures[:10]
            )
            raise AirflowFailException(
                f"{batch.label}: {len(member_failures)} member(s) could not be offboarded and were NOT deleted "
                f"unless backed up: {listed}. Fix what WeCom says (visible range, permissions), then clear this "
                f"task: it redoes only those members (progress in {progress_path(batch.batch_id)})."
            )
        return summary
