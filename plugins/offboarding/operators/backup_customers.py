"""``ExportCustomersAndGroupsOperator``: the member's customers (客户) and customer groups (客户群)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from airflow.sdk import Context

from offboarding.operators.backup_common import (
    Tally,
    is_member_gone,
    jsonl_chunks,
    member_userid,
    not_exported,
    record_evidence,
)
from offboarding.operators.base import Case, CaseOperator
from offboarding.wecom.customer_contacts import NO_RELATIONSHIP_ERRCODE
from offboarding.wecom.errors import WeComDataError

CUSTOMERS_PATH = "customers/customers.jsonl"
UNASSIGNED_PATH = "customers/unassigned_customers.jsonl"
GROUPS_PATH = "customers/groups.jsonl"


class ExportCustomersAndGroupsOperator(CaseOperator):
    """Stream the member's customers with details and their customer groups with members to JSON Lines.

    While the member exists: one line per customer from ``externalcontact/batch/get_by_user``
    (``customers/customers.jsonl``). Once the member was deleted WeCom no longer gives details: their
    unassigned customers (``get_unassigned_list`` entries of this member) go to
    ``customers/unassigned_customers.jsonl`` and the details are recorded as not exported.
    Customer groups they own: one line per group from ``groupchat/get`` (``customers/groups.jsonl``);
    a group WeCom refuses to describe is recorded as not exported with its errcode.
    Nothing is held in memory but the current page. Only reads WeCom: safe to rerun.

    XCom: ``{"files": [...], "not_exported": [...], "customers": n, "unassigned_customers": n,
    "groups": n, "member_exists": bool}``.
    """

    def run(self, case: Case, context: Context) -> dict[str, Any]:
        userid = member_userid(case)
        skipped: list[dict[str, str]] = []
        customers, groups = Tally(), Tally()
        exists = self._member_exists(userid)
        if exists:
            customer_file = case.store.write_stream(
                case.case_id,
                CUSTOMERS_PATH,
                jsonl_chunks(self._customers(userid), customers),
                source="wecom:externalcontact/batch/get_by_user",
            )
        else:
            customer_file = case.store.write_stream(
                case.case_id,
                UNASSIGNED_PATH,
                jsonl_chunks(self._unassigned(userid), customers),
                source="wecom:externalcontact/get_unassigned_list",
            )
            skipped.append(
                not_exported(
                    f"customer details of {userid}",
                    "the member was deleted before the backup: WeCom only lists the ids of their "
                    f"unassigned customers ({UNASSIGNED_PATH}), not the details",
                    "get_unassigned_list",
                )
            )
        group_file = case.store.write_stream(
            case.case_id,
            GROUPS_PATH,
            jsonl_chunks(self._groups(userid, skipped), groups),
            source="wecom:externalcontact/groupchat/list,groupchat/get",
        )
        files = [customer_file, group_file]
        result = {
            "files": [entry.to_dict() for entry in files],
            "not_exported": skipped,
            "customers": customers.records if exists else 0,
            "unassigned_customers": 0 if exists else customers.records,
            "groups": groups.records,
            "member_exists": exists,
        }
        record_evidence(
            case,
            self.task_id,
            "backup.customers_exported",
            key=userid,
            request={"userid": userid},
            result={
                "paths": [entry.path for entry in files],
                **{k: result[k] for k in ("customers", "unassigned_customers", "groups", "member_exists")},
                "not_exported": len(skipped),
            },
        )
        self.log.info(
            "Exported %d customers (%d unassigned) and %d customer groups of %s; %d items not exported",
            result["customers"],
            result["unassigned_customers"],
            groups.records,
            userid,
            len(skipped),
        )
        return result

    def _member_exists(self, userid: str) -> bool:
        try:
            self.hook.contacts.get_user(userid)
        except WeComDataError as err:
            if is_member_gone(err):
                return False
            raise
        return True

    def _customers(self, userid: str) -> Iterator[dict[str, Any]]:
        """Each customer with details; none when WeCom says there is no relationship at all (84061)."""
        try:
            yield from self.hook.customer_contacts.iter_customer_details(userid)
        except WeComDataError as err:
            if err.errcode != NO_RELATIONSHIP_ERRCODE:
                raise

    def _unassigned(self, userid: str) -> Iterator[dict[str, Any]]:
        for entry in self.hook.customer_contacts.iter_unassigned():
            if entry.get("handover_userid") == userid:
                yield entry

    def _groups(self, userid: str, skipped: list[dict[str, str]]) -> Iterator[dict[str, Any]]:
        """Each customer group the member owns, with its details and members."""
        contacts = self.hook.customer_contacts
        for group in contacts.iter_group_chats(owner=userid):
            chat_id = str(group["chat_id"])
            try:
                detail = contacts.get_group_chat(chat_id)
            except WeComDataError as err:
                skipped.append(
                    not_exported(f"customer group {chat_id} details", err.message, str(err.errcode or ""))
                )
                continue
            yield {**detail, "status": group.get("status")}
