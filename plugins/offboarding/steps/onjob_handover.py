"""在职继承 of one person: their customers and customer groups → the successor, before the deletion.

Both steps read WeCom first and act only on what is left, keep one record per item in the case's results
file (:mod:`.handover_files`) and return the counts the task hands on (``None`` when the member is
already deleted: the resigned transfer after the deletion takes over). The transfer itself is
:mod:`.transfer`, the same for the company batches.
"""

from __future__ import annotations

from typing import Any

from offboarding.backup.storage import BackupStore
from offboarding.evidence.ledger import EvidenceLedger
from offboarding.steps.corp import WeComCorp, read_member
from offboarding.steps.handover_files import (
    CUSTOMERS_ONJOB_PATH,
    GROUPS_ONJOB_PATH,
    transfer_customers_with_file,
    transfer_groups_with_file,
)
from offboarding.steps.outcomes import errcode_counts


def hand_over_customers(
    corp: WeComCorp, store: BackupStore, case_id: str, member: str, successor: str
) -> dict[str, Any] | None:
    """Hand every customer ``member`` follows to ``successor`` (``transfer_customer``).

    Customers already in transfer to the successor (``transfer_result``) are not sent again, nor are those
    that failed before (e.g. 40128): they stay in ``handover/customers_onjob.json`` for the resigned
    transfer after the deletion.
    """
    if read_member(corp, member) is None:
        return None
    customers = corp.customer_contacts.list_customers(member)
    transfer, counts = transfer_customers_with_file(
        corp, store, case_id, CUSTOMERS_ONJOB_PATH, member, successor, customers, resigned=False
    )
    return {
        "member": member,
        "successor": successor,
        "customers": len(customers),
        "sent": len(transfer.sent),
        "started": counts.get("started", 0),
        "in_progress": counts.get("in_progress", 0),
        "in_transfer_before": counts.get("in_transfer", 0),
        "failed": counts.get("failed", 0),
        "failed_errcodes": errcode_counts(transfer.items),
        "file": CUSTOMERS_ONJOB_PATH,
    }


def hand_over_customer_groups(
    corp: WeComCorp, store: BackupStore, ledger: EvidenceLedger, case_id: str, member: str, successor: str
) -> dict[str, Any] | None:
    """Hand the customer groups ``member`` owns to ``successor`` (``groupchat/onjob_transfer``).

    Groups that failed before are not sent again; beyond what today's allowance (300 a day, counted from
    the ledger) leaves, groups are ``deferred`` for a rerun tomorrow or the resigned transfer.
    """
    if read_member(corp, member) is None:
        return None
    owned = [g["chat_id"] for g in corp.customer_contacts.iter_group_chats(owner=member)]
    transfer, counts, day = transfer_groups_with_file(
        corp, store, ledger, case_id, GROUPS_ONJOB_PATH, member, successor, owned, resigned=False
    )
    return {
        "member": member,
        "successor": successor,
        "owned": len(owned),
        "sent": len(transfer.sent),
        "started": counts.get("started", 0) + counts.get("in_progress", 0),
        "failed": counts.get("failed", 0),
        "deferred": counts.get("deferred", 0),
        "failed_errcodes": errcode_counts(transfer.items),
        "day": day.isoformat(),
        "file": GROUPS_ONJOB_PATH,
    }
