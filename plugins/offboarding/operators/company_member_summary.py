"""``summarise_member_offboarding``: how many members were offboarded, each one's outcome, the whole backup.

Reads every batch's progress (the plan names them), refuses while a member is pending or failed (the
enterprise must not be closed over them), writes every member's outcome to ``members/outcomes.jsonl``
and ``members/outcomes.csv`` (safe to open in a spreadsheet: :mod:`offboarding.backup.spreadsheet`),
writes the case manifest over every batch's backup and the outcome files and verifies it (``backup.verified``, as for a person's backup), and reads WeCom back: the members it
still lists should be the kept ones only. Records ``members.summarised``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from airflow.sdk import Context
from airflow.sdk.exceptions import AirflowFailException

from offboarding.operators.base import Case, CaseOperator

if TYPE_CHECKING:
    from offboarding.steps.batches import MemberBatch, MemberPlan
    from offboarding.steps.progress import BatchProgress

OUTCOMES_JSONL_PATH = "members/outcomes.jsonl"
OUTCOMES_CSV_PATH = "members/outcomes.csv"

CSV_COLUMNS = (
    "userid",
    "batch",
    "position_in_batch",
    "outcome",
    "kept_reason",
    "backup",
    "customers_handed_over",
    "groups_handed_over",
    "deleted",
    "resigned_customers",
    "resigned_groups",
    "items_not_handed_over",
    "error",
)


class SummariseMemberOffboardingOperator(CaseOperator):
    """Total the batches, write every member's outcome, verify the whole backup, read WeCom back.

    Fails when a member is still pending or failed (the enterprise must not be closed over them).
    Returns ``{"members", "offboarded", "kept", "already_gone", ..., "done", "members_left_in_wecom",
    "unexpected_members_left", "outcomes_file", "outcomes_csv", "manifest_sha256"}``.
    """

    def run(self, case: Case, context: Context) -> dict[str, Any]:
        from offboarding.operators.company_members import LEDGER_FAILURES_SHOWN, require_plan
        from offboarding.steps.batches import PLAN_PATH
        from offboarding.steps.progress import KEPT, MEMBER_FAILURES, PENDING

        plan = require_plan(case)
        if case.kind == "layoff":
            from offboarding.operators.layoff import require_plan_of_the_list

            require_plan_of_the_list(case, plan)  # nobody on the list left out of the batches
        totals: Counter[str] = Counter()
        folders: list[str] = []
        kept: dict[str, str] = {}
        problems: list[str] = []
        items_not_handed_over = 0
        for batch, members in plan.batches:
            progress = self._progress(case, batch, members)
            totals.update(progress.counts())
            items_not_handed_over += len(progress.item_failures())
            folders.extend(p["folder"] for p in progress.backup_parts)
            kept.update({u: progress.record(u)["kept"] for u in members if progress.outcome(u) == KEPT})
            problems.extend(
                f"{u} in {batch.label}: {progress.outcome(u)}"
                for u in members
                if progress.outcome(u) in (*MEMBER_FAILURES, PENDING)
            )
        if problems:
            raise AirflowFailException(
                f"{len(problems)} member(s) are not offboarded: {'; '.join(problems[:10])}. Clear the failed "
                "offboard_member_batch task instances (they redo only what is left), then this task."
            )
        outcomes = self._write_outcomes(case, plan)
        manifest_sha256, backup_summary = self._verify_backup(case, folders, outcomes)
        left = list(self.hook.contacts.iter_member_ids())
        if case.kind == "layoff":  # the corp goes on: only the listed persons should be gone
            listed = {u for _, members in plan.batches for u in members}
            unexpected = [u for u in left if u in listed and u not in kept]
        else:
            unexpected = [u for u in left if u not in kept]
        total = plan.total
        result = {
            "members": total,
            **{
                k: totals.get(k, 0)
                for k in ("offboarded", "kept", "already_gone", "backup_failed", "delete_failed")
            },
            "items_not_handed_over": items_not_handed_over,
            "done": f"{totals['offboarded'] + totals['already_gone']} of {total} members offboarded"
            + ("" if case.kind == "layoff" else f", {totals['kept']} kept until the enterprise is dissolved"),
            "members_left_in_wecom": len(left),
            "unexpected_members_left": unexpected[:20],
            "unexpected_members_left_count": len(unexpected),
            "outcomes_file": OUTCOMES_JSONL_PATH,
            "outcomes_csv": OUTCOMES_CSV_PATH,
            "manifest_sha256": manifest_sha256,
            "backup": backup_summary,
        }
        self.record(
            "members.summarised",
            request={"plan": PLAN_PATH, "batches": len(plan.batches)},
            result={
                **result,
                "kept_members": kept,
                "unexpected_members_left": unexpected[:LEDGER_FAILURES_SHOWN],
            },
        )
        self.log.info("%s; WeCom still lists %d members", result["done"], len(left))
        if unexpected:
            self.log.warning(
                "WeCom still lists %d members the plan did not keep (e.g. joined after planning, or a dry run): "
                "%s. They are removed with the enterprise WITHOUT a backup unless someone offboards them first.",
                len(unexpected),
                ", ".join(unexpected[:20]),
            )
        return result

    @staticmethod
    def _progress(case: Case, batch: MemberBatch, members: tuple[str, ...]) -> BatchProgress:
        from offboarding.steps.progress import BatchProgress

        try:
            return BatchProgress.load(case.store, case.case_id, batch.batch_id, members)
        except ValueError as err:
            raise AirflowFailException(str(err)) from None

    def _rows(self, case: Case, plan: MemberPlan) -> Iterator[dict[str, Any]]:
        for batch, members in plan.batches:
            yield from self._progress(case, batch, members).outcome_rows()

    def _write_outcomes(self, case: Case, plan: MemberPlan) -> list[Any]:
        from offboarding.backup.spreadsheet import csv_chunks
        from offboarding.steps.jsonl import Tally, jsonl_chunks

        jsonl = case.store.write_stream(
            case.case_id,
            OUTCOMES_JSONL_PATH,
            jsonl_chunks(self._rows(case, plan), Tally()),
            source="progress",
        )
        csv_file = case.store.write_stream(
            case.case_id,
            OUTCOMES_CSV_PATH,
            csv_chunks(self._rows(case, plan), CSV_COLUMNS),
            source="progress",
        )
        return [jsonl, csv_file]

    def _verify_backup(self, case: Case, folders: list[str], extra_entries: list[Any]) -> tuple[str, str]:
        """The case manifest over every batch's backup and the outcome files, read back and verified."""
        from offboarding.backup.manifest import MANIFEST_PATH, BackupManifest, load_manifest, write_manifest
        from offboarding.backup.verification import verify
        from offboarding.operators.adapter import record_evidence
        from offboarding.operators.backup_verify import record_failed_verification
        from offboarding.operators.company_members import BATCH_TASK_ID, LEADERS_TASK_ID, retention_days
        from offboarding.steps.member_backup import load_part_manifest, part_manifest_entry
        from offboarding.steps.verified_backup import VERIFIED_ACTION, verified_result

        if case.kind == "layoff":
            subject = f"{case.conf.get('list_name') or case.case_id}: every listed person"
        else:
            company = f"{case.conf.get('company_name') or case.case_id} ({case.conf.get('credit_code')})"
            subject = f"{company}: every member"
        manifest = BackupManifest.start(
            case.case_id,
            subject,
            retention=retention_days(),
            encrypted=case.store.encrypted,
        )
        for folder in folders:
            part = load_part_manifest(case.store, case.case_id, folder)
            for item in part.items:
                manifest.add(item)
            for missing in part.not_exported:
                manifest.record_not_exported(missing.item, missing.reason, missing.reference)
            manifest.add(part_manifest_entry(case.store, case.case_id, folder))
        for entry in extra_entries:
            manifest.add(entry)
        write_manifest(case.store, manifest)
        report = verify(case.store, load_manifest(case.store, case.case_id))
        if not report.ok:
            problems = [i.path for i in (*report.missing, *report.mismatched)]
            record_failed_verification(case, self.task_id, report, problems)
            raise AirflowFailException(
                f"the members' backup does not verify any more: {', '.join(problems[:10])}; restore those files "
                "from the storage's versions, then clear this task"
            )
        record_evidence(
            case,
            self.task_id,
            VERIFIED_ACTION,
            key=report.manifest_sha256,
            request={"manifest": MANIFEST_PATH, "sources": [BATCH_TASK_ID, LEADERS_TASK_ID]},
            result=verified_result(report, manifest),
        )
        return report.manifest_sha256, report.summary_text()
