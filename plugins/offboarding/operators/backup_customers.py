"""``ExportCustomersAndGroupsOperator``: the member's customers (客户) and customer groups (客户群)."""

from __future__ import annotations

from typing import Any

from airflow.sdk import Context

from offboarding.operators.base import Case, CaseOperator


class ExportCustomersAndGroupsOperator(CaseOperator):
    """Stream the member's customers with details and their customer groups with members to JSON Lines.

    While the member exists: one line per customer from ``externalcontact/batch/get_by_user``
    (``customers/customers.jsonl``). Once the member was deleted WeCom no longer gives details: their
    unassigned customers (``get_unassigned_list`` entries of this member) go to
    ``customers/unassigned_customers.jsonl`` and the details are recorded as not exported.
    Customer groups they own: one line per group from ``groupchat/get`` (``customers/groups.jsonl``);
    a group WeCom refuses to describe is recorded as not exported with its errcode.
    Nothing is held in memory but the current page. Only reads WeCom: safe to rerun
    (:func:`offboarding.steps.person_backup.export_customers_and_groups`).

    XCom: ``{"files": [...], "not_exported": [...], "customers": n, "unassigned_customers": n,
    "groups": n, "member_exists": bool}``.
    """

    def run(self, case: Case, context: Context) -> dict[str, Any]:
        from offboarding.operators.adapter import member_userid, record_evidence
        from offboarding.steps.person_backup import export_customers_and_groups

        userid = member_userid(case)
        export = export_customers_and_groups(self.hook, case.store, case.case_id, userid)
        exists = export.member_exists
        result = {
            "files": [entry.to_dict() for entry in export.files],
            "not_exported": export.not_exported,
            "customers": export.customers if exists else 0,
            "unassigned_customers": 0 if exists else export.customers,
            "groups": export.groups,
            "member_exists": exists,
        }
        record_evidence(
            case,
            self.task_id,
            "backup.customers_exported",
            key=userid,
            request={"userid": userid},
            result={
                "paths": [entry.path for entry in export.files],
                **{k: result[k] for k in ("customers", "unassigned_customers", "groups", "member_exists")},
                "not_exported": len(export.not_exported),
            },
        )
        self.log.info(
            "Exported %d customers (%d unassigned) and %d customer groups of %s; %d items not exported",
            result["customers"],
            result["unassigned_customers"],
            export.groups,
            userid,
            len(export.not_exported),
        )
        return result
